"""The client satisfaction pulse in the console: asked on schedule in the client side,
answered by two client people (typed, buttons, form), a drop that alerts the PM, the team's
trend and a client's own answers, health, the weekly report, and no leak to the client."""

from __future__ import annotations

from sqlalchemy import select

from adapters.console.session import Speaker, place_for
from bot.requests import Action, Request
from storage.models import Delivery, Pulse, PulseAnswer, PulseConfig
from tests.commands.test_huddle import posts_to, tick
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, count, kickoff

LEAKS = ("4.5", "2.5", "satisfaction 2", "average", "down from", "Responses", "dave (")


async def dave_says(bot: Harness, line: str) -> str:
    return await bot.say("dave", line, channel=CLIENT, external=True)


async def client_deliveries(bot: Harness) -> list[str]:
    async with bot.sessions() as session:
        rows = await session.scalars(select(Delivery).where(Delivery.audience == "client"))
        return [str(d.message) for d in rows]


async def test_a_pulse_answered_by_two_clients_and_the_pm_alerted_on_a_drop(bot: Harness) -> None:
    bot.clock.set("2026-12-01T08:00+00:00")
    await kickoff(bot)
    await bot.say("ann", "help", channel=None)  # the bot knows where to DM the PM

    first = await tick(bot, "2026-12-03T09:00")  # Thursday, the check-in time
    asked = posts_to(first, "#" + CLIENT)
    assert len(asked) == 1 and "How satisfied are you" in asked[0]
    assert "pulse 4" in asked[0] and "[1] 1" in asked[0]
    assert posts_to(await tick(bot, "2026-12-03T09:05"), "#" + CLIENT) == []  # claimed once

    assert "noted: 5 of 5" in await client_says(bot, "pulse 5")
    assert "noted: 4 of 5" in await dave_says(bot, 'pulse 4 "Good pace"')
    assert "changed to 5 of 5" in await dave_says(bot, 'pulse 5 "Good pace"')
    refused = await bot.say("bob", "pulse 3")
    assert "Only the client answers" in refused
    bad = await client_says(bot, "pulse 7")
    assert "from 1 to 5" in bad and "Usage" in bad
    assert await count(bot, PulseAnswer) == 2
    assert posts_to(bot.take_posts(), "@ann") == []  # 5.0: no alert

    assert posts_to(await tick(bot, "2026-12-10T09:00"), "#" + CLIENT) == []  # every 2 weeks
    second = await tick(bot, "2026-12-17T09:00")
    assert "How satisfied are you" in posts_to(second, "#" + CLIENT)[0]
    await client_says(bot, 'pulse 2 "Slow replies"')
    alerts = posts_to(bot.take_posts(), "@ann")
    assert len(alerts) == 1 and "Client satisfaction 2.0, down from 5.0" in alerts[0]
    await dave_says(bot, "pulse 3")
    alerts = posts_to(bot.take_posts(), "@ann")
    assert "Client satisfaction 2.5, down from 5.0" in alerts[0]
    await client_says(bot, 'pulse 2 "Still slow"')  # changed: no second alert for carol
    assert posts_to(bot.take_posts(), "@ann") == []

    team = await bot.say("ann", "pulse")
    assert "Client satisfaction: 2.5 of 5" in team and "Previous pulse: 5.0 of 5" in team
    assert "Last pulses: 5.0 → 2.5" in team and "Responses: 2 of 2" in team
    assert "carol (2): Still slow" in team and "-pulse.png" in team
    own = await client_says(bot, "pulse")
    assert "5 of 5" in own and "2 of 5 (Still slow)" in own
    assert "3 of 5" not in own and not any(leak in own for leak in LEAKS)

    status = await bot.say("ann", "status")
    assert "AMBER" in status and "client satisfaction 2.5, down from 5.0" in status
    client_status = await client_says(bot, "status")
    assert "satisfaction" not in client_status

    report = await tick(bot, "2026-12-18T15:00")  # Friday: the weekly reports
    internal = posts_to(report, "#team")[0]
    assert "Client pulse" in internal and "Last pulses: 5.0 → 2.5" in internal
    client_report = posts_to(report, "#" + CLIENT)[0]
    assert "pulse" not in client_report.lower() and "satisfaction" not in client_report
    for text in await client_deliveries(bot):
        assert not any(leak in text for leak in LEAKS), text


async def test_the_form_and_buttons_answer_like_the_typed_form(bot: Harness) -> None:
    await kickoff(bot)
    assert "I asked the client side" in await bot.say("ann", "pulse now")
    assert "How satisfied" in bot.take_posts()
    speaker = Speaker("carol", external=True)
    for action in (
        Action("pulse", "3"),
        Action("pulse", "", {"score": "4", "comment": "Fine"}),
    ):
        request = Request(
            actor=speaker.actor(),
            place=place_for(speaker, CLIENT),
            action=action,
            received_at=bot.clock(),
        )
        reply = await bot.engine.handle(request)
        assert not reply.failed, reply
    answer = await _only_answer(bot)
    assert (answer.score, answer.comment) == (4, "Fine")


async def _only_answer(bot: Harness) -> PulseAnswer:
    async with bot.sessions() as session:
        rows = (await session.scalars(select(PulseAnswer))).all()
    assert len(rows) == 1
    return rows[0]


async def test_pulse_settings_bad_input_and_off(bot: Harness) -> None:
    await kickoff(bot)
    out = await bot.say("ann", "pulse set every:3w")
    assert "1w, 2w or 4w" in out and "Usage" in out
    out = await bot.say("ann", "pulse set every:1w day:funday")
    assert "not a weekday" in out
    assert await count(bot, PulseConfig) == 0
    out = await bot.say("ann", "pulse set every:1w day:tue after-signoff:off")
    assert "every week on Tuesday at 09:00" in out and "After a client sign-off: no" in out
    assert "for the project's PM" in await client_says(bot, "pulse set every:1w")
    assert "How satisfied" in posts_to(await tick(bot, "2026-12-08T09:00"), "#" + CLIENT)[0]
    await bot.say("ann", "pulse off")
    assert posts_to(await tick(bot, "2026-12-15T09:00"), "#" + CLIENT) == []
    assert await count(bot, Pulse) == 1


async def test_a_client_sign_off_asks_for_a_pulse(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'milestone add "Design" due:2026-12-20 client')
    await bot.say("ann", "milestone done 1")
    bot.take_posts()
    await client_says(bot, "milestone signoff 1")
    assert "How satisfied" in bot.take_posts() + "".join(await client_deliveries(bot))
    assert await count(bot, Pulse) == 1
