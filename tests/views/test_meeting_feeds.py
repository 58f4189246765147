"""The client meeting in the calendar feeds: one timed event in the project's zone with an
RRULE, EXDATEs for a skipped meeting and a public holiday, expanded by a calendar app
(`recurring-ical-events`) across the spring DST change; the client's action items in the
client feed, an internal one only in the team's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import icalendar
import recurring_ical_events

from tests.project_setup import client_says
from tests.reach_setup import link_in, reach_world
from tests.system_world import MARKERS
from tests.views.test_calendar_feeds import events_of, feed, plan


def meetings_between(calendar: icalendar.Calendar, first: date, last: date) -> list[datetime]:
    found = recurring_ical_events.of(calendar).between(first, last)
    return sorted(
        e.decoded("DTSTART").astimezone(UTC) for e in found if "client meeting" in str(e["SUMMARY"])
    )


async def test_the_meeting_recurs_in_the_projects_zone_without_skipped_days(db_url: str) -> None:
    async with reach_world(db_url) as world:
        bot = world.bot
        await plan(bot)  # Acme Site, Europe/Berlin
        await client_says(bot, "help")  # carol is met: a client person
        for line in (
            "project set country:DE",
            "meeting set mon 10:00 length:30m",
            "meeting skip 2027-03-22",
            'action "Send the logo files" @carol due:2027-03-24',
            'action "INTERNAL-NOTE-WOMBAT tidy" @bob due:2027-03-25 --internal',
        ):
            out = await bot.say("ann", line)
            assert "Usage" not in out, (line, out)
        team = await feed(world, link_in(await bot.say("ann", "calendar")))
        (meeting,) = [e for e in team.walk("VEVENT") if "client meeting" in str(e["SUMMARY"])]
        start = meeting.decoded("DTSTART")
        assert start.tzinfo is not None and str(meeting["DTSTART"].params["TZID"]) == (
            "Europe/Berlin"
        )
        assert (start.date(), start.hour, start.minute) == (date(2026, 12, 7), 10, 0)
        assert (meeting.decoded("DTEND") - start).total_seconds() == 30 * 60
        rule = meeting.decoded("RRULE")
        assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO"]
        # 22 March skipped, 29 March Easter Monday; Berlin moves to summer time on the 28th.
        expected = [
            datetime(2027, 3, 15, 9, 0, tzinfo=UTC),
            datetime(2027, 4, 5, 8, 0, tzinfo=UTC),
        ]
        assert meetings_between(team, date(2027, 3, 15), date(2027, 4, 6)) == expected
        summaries = {s for s, _, _ in events_of(team).values()}
        assert "Action 1: Send the logo files (carol)" in summaries
        assert "Action 2: INTERNAL-NOTE-WOMBAT tidy (bob)" in summaries

        client_link = link_in(await bot.say("ann", "calendar client"))
        status, body, _ = await world.open(client_link)
        client = icalendar.Calendar.from_ical(body)
        assert meetings_between(client, date(2027, 3, 15), date(2027, 4, 6)) == expected
        assert "Action 1: Send the logo files (carol)" in {
            s for s, _, _ in events_of(client).values()
        }
        assert [m for m in MARKERS if m in body.decode()] == []

        await bot.say("ann", "meeting off")
        after = await feed(world, link_in(await bot.say("ann", "calendar")))
        assert meetings_between(after, date(2027, 3, 15), date(2027, 4, 6)) == []
