"""One person's kept reply as another's answer (bot.engine.standing): a `status`, `tasks`,
`budget` or `risks` with no arguments, kept for someone who stands exactly where the asker
stands (the channel, the project, its side, their role, zone and locale), and never for
anyone else: a PM, a client, a guest, a colleague not on the project, someone in another
zone."""

from __future__ import annotations

from adapters.console.session import Speaker, place_for
from bot.engine.reply_cache import tenant_key
from bot.engine.standing import standing_remembered
from bot.requests import Request
from tests.conftest import StatementCounter
from tests.engine.test_reply_cache import sqlite_only, statements_for
from tests.harness import Harness
from tests.project_setup import kickoff


def asks(who: str, line: str, *, tz: str | None = None, external: bool = False) -> Request:
    speaker = Speaker(who, external, tz)
    return Request(actor=speaker.actor(), place=place_for(speaker, "team"), text=line)


async def two_members(bot: Harness) -> None:
    """Acme: ann the PM, bob and erin members, each of whom has asked something in `team`
    (so who they are and where is remembered)."""
    await kickoff(bot)
    assert "Usage" not in await bot.say("ann", "team add @erin role:member rate:90/h")
    for who in ("ann", "bob", "erin"):
        reply = await bot.engine.handle(asks(who, "waiting"))
        assert not reply.failed, reply


@sqlite_only
async def test_a_teammate_is_answered_with_the_reply_kept_for_another_member(
    bot: Harness, statements: StatementCounter
) -> None:
    await two_members(bot)
    for line in ("status", "tasks", "budget", "risks"):
        assert await statements_for(bot, statements, asks("bob", line)) > 0, line
        assert await statements_for(bot, statements, asks("erin", line)) == 0, line
        bobs = await bot.engine.handle(asks("bob", line))
        erins = await bot.engine.handle(asks("erin", line))
        assert bobs == erins


@sqlite_only
async def test_a_pm_a_guest_a_stranger_and_another_zone_get_replies_of_their_own(
    bot: Harness, statements: StatementCounter
) -> None:
    await two_members(bot)
    await bot.engine.handle(asks("bob", "status"))
    await bot.engine.handle(asks("bob", "tasks"))
    # The PM stands elsewhere (another role), and so does erin seen from another zone.
    assert await statements_for(bot, statements, asks("ann", "status")) > 0
    berlin = asks("erin", "status", tz="Europe/Berlin")
    await bot.engine.handle(asks("erin", "waiting", tz="Europe/Berlin"))  # remembered too
    assert await statements_for(bot, statements, berlin) > 0
    # A guest of our own workspace is a client: the client's status, without the budget.
    guest = await bot.engine.handle(asks("bob", "status", external=True))
    assert "Budget" in str(await bot.engine.handle(asks("bob", "status")))
    assert "Budget" not in str(guest.messages), guest
    # A colleague who is not on the project is refused the task list, as ever.
    await bot.engine.handle(asks("dave", "waiting"))
    stranger = await bot.engine.handle(asks("dave", "tasks"))
    assert stranger.failed and "Open tasks" not in str(stranger.messages), stranger


@sqlite_only
async def test_a_reply_read_for_another_standing_than_its_key_says_is_not_kept(
    bot: Harness,
) -> None:
    """Who stands where may change between the key (from remembered rows) and the read (a
    role changed meanwhile): the reply is then kept for nobody."""
    await two_members(bot)
    request = asks("bob", "status")
    tenant = tenant_key(request.place.platform, request.place.tenant)
    remembered = bot.engine.places.peek(request, tenant)
    assert remembered is not None
    bobs = standing_remembered(remembered)
    assert bobs is not None
    _, keep = await bot.engine._run(request, "status", tenant, kept=True, standing=bobs)  # noqa: SLF001
    assert keep
    as_pm = (*bobs[:2], "pm", *bobs[3:])
    _, keep = await bot.engine._run(request, "status", tenant, kept=True, standing=as_pm)  # noqa: SLF001
    assert keep is False
