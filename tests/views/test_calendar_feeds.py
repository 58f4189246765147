"""Calendar feeds: `calendar`, `calendar mine`, `calendar client [post]`, `calendar reset`,
served at LIAISON_PUBLIC_URL/calendar/<token>.ics and read back as a calendar app would:
parsed with `icalendar`, expanded with `recurring-ical-events`, polled with conditional
GETs."""

from __future__ import annotations

from datetime import date, timedelta

import icalendar
import recurring_ical_events
from sqlalchemy import event, select

from bot.domain.access_tokens import new_token
from storage.models import CalendarFeed
from storage.secrets import SecretBox, is_sealed
from tests.harness import Harness
from tests.processes import TEST_SECRET_KEY
from tests.project_setup import CLIENT, client_says, kickoff
from tests.reach_setup import Reach, link_in, reach_world
from tests.system_world import MARKERS

BERLIN = 'project new "Acme Site" client:"Acme Corp" budget:50k due:2027-04-30 tz:Europe/Berlin'


async def plan(bot: Harness) -> None:
    """Milestones either side of the spring DST change in Berlin (2027-03-28), tasks with
    and without owners, and internal facts that only the team may read."""
    for line in (
        BERLIN,
        "team add @bob role:member rate:100/h",
        'milestone add "Design sign-off" due:2027-03-26 client',
        'milestone add "Code freeze" due:2027-03-29',
        'task add "Build homepage" @bob due:2027-03-24',
        'task add "INTERNAL-NOTE-WOMBAT cleanup" @ann due:2027-03-30',
        'risk add "INTERNAL-RISK-ZEBRA" likelihood:high impact:high',
        'spend 48765 "INTERNAL-SPEND-NARWHAL"',
    ):
        out = await bot.say("ann", line)
        assert "Usage" not in out, (line, out)
    out = await bot.say("ann", "project link client", channel=CLIENT)
    assert "shared with Acme Corp" in out, out
    bot.take_posts()


async def feed(world: Reach, link: str) -> icalendar.Calendar:
    status, body, headers = await world.open(link)
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(body)


def events_of(calendar: icalendar.Calendar) -> dict[str, tuple[str, date, int]]:
    return {
        str(e["UID"]): (str(e["SUMMARY"]), e.decoded("DTSTART"), int(e.get("SEQUENCE", 0)))
        for e in calendar.walk("VEVENT")
    }


async def test_the_team_feed_has_exactly_the_plan_and_an_edit_moves_an_event(db_url: str) -> None:
    async with reach_world(db_url) as world:
        bot = world.bot
        await plan(bot)
        link = link_in(await bot.say("bob", "calendar"))
        calendar = await feed(world, link)
        assert str(calendar["X-WR-CALNAME"]) == "Acme Site"
        (zone,) = calendar.walk("VTIMEZONE")
        assert str(zone["TZID"]) == "Europe/Berlin"
        found = events_of(calendar)
        assert sorted(found.values(), key=lambda e: (e[1], e[0])) == [
            ("T1 Build homepage (bob)", date(2027, 3, 24), 0),
            ("Milestone M1: Design sign-off", date(2027, 3, 26), 0),
            ("Milestone M2: Code freeze", date(2027, 3, 29), 0),
            ("T2 INTERNAL-NOTE-WOMBAT cleanup (ann)", date(2027, 3, 30), 0),
            ("Acme Site due", date(2027, 4, 30), 0),
        ]
        for vevent in calendar.walk("VEVENT"):  # all-day: a date and the next day
            start = vevent.decoded("DTSTART")
            assert type(start) is date and vevent.decoded("DTEND") == start + timedelta(days=1)
        # A calendar app expanding the week of the DST change sees the same days.
        week = recurring_ical_events.of(calendar).between(date(2027, 3, 25), date(2027, 4, 1))
        assert sorted((str(e["SUMMARY"]), e.decoded("DTSTART")) for e in week) == [
            ("Milestone M1: Design sign-off", date(2027, 3, 26)),
            ("Milestone M2: Code freeze", date(2027, 3, 29)),
            ("T2 INTERNAL-NOTE-WOMBAT cleanup (ann)", date(2027, 3, 30)),
        ]

        again = await feed(world, link)
        assert again.to_ical() == calendar.to_ical()  # stable while nothing changed
        out = await bot.say("ann", "milestone due 2 2027-04-06")
        assert "2027-04-06" in out or "April" in out, out
        moved = events_of(await feed(world, link))
        assert set(moved) == set(found)  # the same UIDs: moved, not duplicated
        (code_freeze,) = [uid for uid, e in moved.items() if "Code freeze" in e[0]]
        assert moved[code_freeze] == ("Milestone M2: Code freeze", date(2027, 4, 6), 1)
        assert {u: e for u, e in moved.items() if u != code_freeze} == {
            u: e for u, e in found.items() if u != code_freeze
        }


async def test_pollers_get_304_until_something_changes(db_url: str) -> None:
    async with reach_world(db_url) as world:
        bot = world.bot
        await plan(bot)
        link = link_in(await bot.say("ann", "calendar"))
        status, body, headers = await world.open(link)
        assert status == 200 and headers["ETag"] and headers["Last-Modified"]
        status, body, _ = await world.open(link, headers={"If-None-Match": headers["ETag"]})
        assert (status, body) == (304, b"")
        since = {"If-Modified-Since": headers["Last-Modified"]}
        assert (await world.open(link, headers=since))[0] == 304
        await bot.say("ann", "task done 1")
        status, body, changed = await world.open(link, headers={"If-None-Match": headers["ETag"]})
        assert status == 200 and changed["ETag"] != headers["ETag"]
        assert "✓ T1 Build homepage" in body.decode()


async def test_a_feed_costs_two_statements_meeting_and_action_items_included(
    db_url: str,
) -> None:
    async with reach_world(db_url) as world:
        await plan(world.bot)
        for line in ("meeting set mon 10:00", "meeting skip", 'action "Logo" due:2027-03-24'):
            assert "Usage" not in await world.bot.say("ann", line), line
        link = link_in(await world.bot.say("ann", "calendar"))
        seen: list[str] = []
        record = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(world.runtime.db.sync_engine, "before_cursor_execute", record)
        try:
            assert (await world.open(link))[0] == 200
        finally:
            event.remove(world.runtime.db.sync_engine, "before_cursor_execute", record)
        assert len(seen) == 2, seen


async def test_the_client_feed_holds_no_internal_item(db_url: str) -> None:
    async with reach_world(db_url) as world:
        bot = world.bot
        await plan(bot)
        team_link = link_in(await bot.say("ann", "calendar"))
        team_ics = (await world.open(team_link))[1].decode()
        assert "INTERNAL-NOTE-WOMBAT" in team_ics  # the team feed does show the task
        out = await bot.say("ann", "calendar client")
        client_link = link_in(out)
        status, body, _ = await world.open(client_link)
        text = body.decode()
        assert [m for m in MARKERS if m in text] == []
        shown = events_of(icalendar.Calendar.from_ical(body)).values()
        assert sorted((summary, day) for summary, day, _ in shown) == [
            ("Acme Site due", date(2027, 4, 30)),
            ("Design sign-off", date(2027, 3, 26)),
        ]
        assert client_link != team_link

        # Posting it to the client side is the PM's choice, and posts only the client link.
        out = await bot.say("ann", "calendar client post")
        assert "Posted" in out, out
        posted = bot.take_posts()
        assert f"#{CLIENT} [client]" in posted and client_link in posted


async def test_clients_get_no_team_calendar_and_members_no_client_one(db_url: str) -> None:
    async with reach_world(db_url) as world:
        bot = world.bot
        await plan(bot)
        for line in ("calendar", "calendar mine", "calendar client", "calendar reset"):
            out = await client_says(bot, line)
            assert "/calendar/" not in out, (line, out)
        out = await bot.say("ann", "calendar", channel=CLIENT)
        assert "/calendar/" not in out and "shared with the client" in out, out
        out = await bot.say("bob", "calendar client")
        assert "/calendar/" not in out and "PM" in out, out


async def test_reset_rotates_the_token_and_the_old_url_is_gone_at_once(db_url: str) -> None:
    async with reach_world(db_url) as world:
        bot = world.bot
        await plan(bot)
        old = link_in(await bot.say("ann", "calendar"))
        assert link_in(await bot.say("bob", "calendar")) == old  # the team shares one feed
        new = link_in(await bot.say("ann", "calendar reset"))
        assert new != old
        assert (await world.open(old))[:2] == (404, b"")
        assert (await world.open(new))[0] == 200
        assert link_in(await bot.say("bob", "calendar")) == new
        client = link_in(await bot.say("ann", "calendar client"))
        rotated = link_in(await bot.say("ann", "calendar reset client"))
        assert (await world.open(client))[:2] == (404, b"") and rotated != client
        assert (await world.open(new))[0] == 200  # the team's link is left alone


async def test_unknown_and_malformed_tokens_get_a_bare_404(db_url: str) -> None:
    async with reach_world(db_url) as world:
        await plan(world.bot)
        real = link_in(await world.bot.say("ann", "calendar"))
        token = real.rsplit("/", 1)[1].removesuffix(".ics")
        base = real.rsplit("/", 1)[0]
        probes = [
            new_token().token,  # well formed, never issued
            token[:-1] + ("A" if token[-1] != "A" else "B"),  # one character off
            token[:20],
            token + "A",
            "1",
            "..%2F..%2Fetc%2Fpasswd",
            "%00",
        ]
        for probe in probes:
            status, body, headers = await world.open(f"{base}/{probe}.ics")
            assert (status, body) == (404, b""), probe
        assert (await world.open(f"{base}/{token}"))[0] == 404  # no .ics: no route
        assert (await world.open(real))[0] == 200


async def test_my_feed_has_my_tasks_across_projects(db_url: str) -> None:
    async with reach_world(db_url) as world:
        bot = world.bot
        await plan(bot)
        for line in (
            'project new "Beta Shop" client:"Beta Ltd"',
            "team add @bob role:member",
            'task add "Checkout" @bob due:2027-02-01',
            'task add "Ann only" @ann due:2027-02-02',
        ):
            out = await bot.say("ann", line, channel="beta-team")
            assert "Usage" not in out, out
        link = link_in(await bot.say("bob", "calendar mine", channel=None))
        summaries = sorted(s for s, _, _ in events_of(await feed(world, link)).values())
        assert summaries == ["Acme Site: T1 Build homepage", "Beta Shop: T1 Checkout"]
        new = link_in(await bot.say("bob", "calendar reset mine", channel=None))
        assert (await world.open(link))[0] == 404 and (await world.open(new))[0] == 200


async def test_without_a_public_url_the_command_says_what_to_set(bot: Harness) -> None:
    await kickoff(bot)
    out = await bot.say("ann", "calendar")
    assert "LIAISON_PUBLIC_URL" in out and "/calendar/" not in out, out


async def test_a_feeds_token_is_stored_sealed_and_the_link_still_opens(db_url: str) -> None:
    """Who reads the database (a backup, say) does not read the calendar links: the token
    is sealed under LIAISON_SECRET_KEY, found by its digest, and shown again unsealed."""
    async with reach_world(db_url) as world:
        await plan(world.bot)
        link = link_in(await world.bot.say("ann", "calendar"))
        token = link.rsplit("/", 1)[1].removesuffix(".ics")
        async with world.bot.sessions() as session:
            (stored,) = (await session.scalars(select(CalendarFeed.token))).all()
        assert is_sealed(stored) and token not in stored
        assert SecretBox(TEST_SECRET_KEY).open(stored) == token
        assert link_in(await world.bot.say("bob", "calendar")) == link
        assert (await world.open(link))[0] == 200
        assert (await world.open(link.replace(token, stored)))[0] == 404
