"""The client meeting: when it is held, when its agenda is due, where its minutes start, and
when a client's action item is reminded. Pure functions over plain data.

Inputs come from the `meetings`, `meeting_skips` and `action_items` rows, read by the
`meeting` commands (one project) and by the due-step (`bot.schedule.meetings`, every
project at once); the agenda, minutes and reminders in `bot.views.meeting_notes` show what
they decide. A meeting is held on its weekday every N weeks counted from its first day, in
the project's zone, unless skipped or on a day the project does not work (a public
holiday): then there is no agenda either.

Occurrence keys are `agenda:project=7:2027-01-12` (one client meeting a day at most, so the
meeting's local day names it; `parse_key` splits on `:`, so a clock time is never part of
a key) and `action-before:project=7:action=3:2027-01-14` / `action-today:...` for the
reminders of a client's action item, the day being the reminder's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.domain.schedule import (
    Occurrence,
    ProjectTimes,
    Window,
    due_occurrence,
    local_day,
    local_instant,
    working_days_before,
)

CADENCES = (1, 2, 4)
DEFAULT_LENGTH, DEFAULT_AGENDA = 45, 60  # minutes
MAX_LENGTH, MAX_AGENDA = 8 * 60, 24 * 60
AGENDA_KIND = "agenda"
AGENDA_AHEAD = timedelta(days=14)  # milestones due this soon are on the agenda
LOOK_AHEAD_WEEKS = 60  # how far `next_meeting` looks for a day the meeting is held


@dataclass(frozen=True, slots=True)
class MeetingTimes:
    weekday: int  # ISO weekday
    local_time: str  # HH:MM in the project's zone
    every_weeks: int = 1
    anchor: date = date(2026, 1, 5)  # the first meeting's day
    length_minutes: int = DEFAULT_LENGTH
    agenda_minutes: int = DEFAULT_AGENDA
    skipped: frozenset[date] = field(default_factory=frozenset)


def first_meeting_day(weekday: int, today: date) -> date:
    """The first day on `weekday` from today on (today included)."""
    return today + timedelta(days=(weekday - today.isoweekday()) % 7)


def is_meeting_day(meeting: MeetingTimes, day: date) -> bool:
    """On the cadence (skips and holidays aside)."""
    if day.isoweekday() != meeting.weekday or day < meeting.anchor:
        return False
    return ((day - meeting.anchor).days // 7) % meeting.every_weeks == 0


def is_held(project: ProjectTimes, meeting: MeetingTimes, day: date) -> bool:
    return is_meeting_day(meeting, day) and day not in meeting.skipped and project.is_working(day)


def starts_at(project: ProjectTimes, meeting: MeetingTimes, day: date) -> datetime:
    return local_instant(day, meeting.local_time, project.zone)


def meeting_days(meeting: MeetingTimes, start: date) -> Iterator[date]:
    """The days on the cadence from `start` on (skips and holidays included)."""
    day = max(start, meeting.anchor)
    day += timedelta(days=(meeting.weekday - day.isoweekday()) % 7)
    while not is_meeting_day(meeting, day):
        day += timedelta(days=7)
    for _ in range(LOOK_AHEAD_WEEKS):
        yield day
        day += timedelta(days=7 * meeting.every_weeks)


def next_meeting(project: ProjectTimes, meeting: MeetingTimes, now: datetime) -> date | None:
    """The next meeting held that has not started yet."""
    today = local_day(now, project.zone)
    for day in meeting_days(meeting, today):
        if is_held(project, meeting, day) and starts_at(project, meeting, day) > now:
            return day
    return None


def latest_start(project: ProjectTimes, meeting: MeetingTimes, now: datetime) -> datetime | None:
    """When the latest meeting held started, at or before `now` (within its cadence)."""
    today = local_day(now, project.zone)
    back = today - timedelta(days=7 * meeting.every_weeks + 7)
    found = None
    for day in meeting_days(meeting, back):
        if day > today:
            break
        at = starts_at(project, meeting, day)
        if at <= now and is_held(project, meeting, day):
            found = at
    return found


def minutes_since(
    project: ProjectTimes,
    meeting: MeetingTimes,
    now: datetime,
    done_at: datetime | None,
    created_at: datetime,
) -> datetime:
    """Where the minutes of `meeting done` start: the latest meeting's start, or the
    previous `meeting done` when that came later (two `meeting done` in one meeting do not
    repeat a line), or when the meeting was set if it was never held."""
    candidates = [t for t in (latest_start(project, meeting, now), done_at) if t is not None]
    return max(candidates) if candidates else created_at


def agendas_due(project: ProjectTimes, meeting: MeetingTimes, window: Window) -> list[Occurrence]:
    """The agenda `agenda_minutes` before each meeting held, claimed by the meeting's day.
    The window's days run to tomorrow, so an agenda up to a day ahead (MAX_AGENDA) is found."""
    found = []
    lead = timedelta(minutes=meeting.agenda_minutes)
    for day in window.days(project.zone):
        if is_held(project, meeting, day):
            at = starts_at(project, meeting, day) - lead
            found.append(due_occurrence(window, AGENDA_KIND, project.id, at, day))
    return [o for o in found if o]


# --- client action items -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionDue:
    """An open action item a client person owns, with a due date."""

    number: int
    project_id: int
    due_date: date


def action_reminders(
    project: ProjectTimes, actions: Iterable[ActionDue], window: Window
) -> list[Occurrence]:
    """The client side, at the check-in time: the working day before the due date, and on
    the due date when it is a working day."""
    found = []
    for action in actions:
        cal = project.calendar(action.due_date)
        phases = [("before", working_days_before(cal, action.due_date, 1))]
        if cal.is_working(action.due_date):
            phases.append(("today", action.due_date))
        for phase, day in phases:
            at = local_instant(day, project.checkin_time, project.zone)
            found.append(
                due_occurrence(
                    window,
                    f"action-{phase}",
                    project.id,
                    at,
                    day,
                    subject_id=action.number,
                    action=action.number,
                )
            )
    return [o for o in found if o]
