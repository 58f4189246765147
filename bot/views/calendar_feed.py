"""Calendar feeds (iCalendar, RFC 5545) that calendar apps subscribe to by URL.

Three kinds: a project's `team` feed (milestones, task due dates with their owner, action
items with a due date, the client meeting, the project's due date), its `client` feed
(built only from what the client view shows: deliverables the client signs off, the client
meeting, the action items client people own, the project's due date; never an internal
task, amount or risk) and a person's `mine` feed (their tasks across every project).

A request costs two statements: the feed with its project (and its client meeting) or
person, then its events and the meeting's skipped days (one UNION). Dated events are
all-day; the client meeting is one timed event in the project's zone with an RRULE, and
EXDATEs for the days it is not held (skipped, or a day the project does not work). Each
keeps a stable UID (its row), so an edited milestone moves in the subscriber's calendar
instead of appearing twice; SEQUENCE and LAST-MODIFIED come from the row's edit counter
and time. DTSTAMP is the event's last change, not the request time, so
an unchanged feed is byte for byte the same and pollers get 304 from its ETag.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone
from sqlalchemy import false, literal, null, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.access_tokens import digest_of, well_formed
from bot.domain.meetings import is_held, meeting_days, starts_at
from bot.domain.schedule import ProjectTimes
from bot.views.meeting_data import meeting_times
from storage.models import (
    ActionItem,
    CalendarFeed,
    Meeting,
    MeetingSkip,
    Milestone,
    Person,
    Project,
    Task,
)

PRODID = "-//Liaison//Calendar feeds//EN"
FEED_KINDS = ("team", "client", "mine")
ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A timed, recurring event: the client meeting."""

    start: datetime  # aware, in the project's zone
    end: datetime
    rule: dict[str, object]
    exdates: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedEvent:
    uid: str
    summary: str
    day: date
    sequence: int
    changed: datetime
    recurrence: Recurrence | None = None


@dataclass(frozen=True, slots=True)
class FeedBody:
    ics: bytes
    etag: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class OpenedFeed:
    feed: CalendarFeed
    project: Project | None
    person: Person | None
    meeting: Meeting | None = None  # the project's client meeting, while it is on


def feed_scope(kind: str, *, project_id: int | None = None, person_id: int | None = None) -> str:
    if kind == "mine":
        return f"mine:person={person_id}"
    return f"{kind}:project={project_id}"


async def open_feed(session: AsyncSession, token: str) -> OpenedFeed | None:
    """The feed a token opens, or None (unknown, rotated or malformed: all alike)."""
    if not well_formed(token):
        return None
    row = (
        await session.execute(
            select(CalendarFeed, Project, Person, Meeting)
            .outerjoin(Project, Project.id == CalendarFeed.project_id)
            .outerjoin(Person, Person.id == CalendarFeed.person_id)
            .outerjoin(Meeting, (Meeting.project_id == Project.id) & (Meeting.enabled.is_(true())))
            .where(CalendarFeed.token_digest == digest_of(token))
        )
    ).first()
    if row is None:  # found by the SHA-256 of a 256-bit token: the token given is the one
        return None
    return OpenedFeed(row[0], row[1], row[2], row[3])


async def render_feed(session: AsyncSession, opened: OpenedFeed) -> FeedBody:
    events = await load_events(session, opened)
    if opened.feed.kind == "mine":
        assert opened.person is not None
        name, zone = f"Tasks of {opened.person.display_name}", opened.person.timezone or "UTC"
    else:
        assert opened.project is not None
        name, zone = opened.project.name, opened.project.timezone
    return feed_body(name, zone, events, opened.feed.created_at)


async def load_events(session: AsyncSession, opened: OpenedFeed) -> list[FeedEvent]:
    """Every event of the feed in one statement (a UNION of milestones, tasks, action items
    and the client meeting's skipped days)."""
    kind = opened.feed.kind
    rows = (await session.execute(_events_query(opened))).all()
    events = [_event(kind, *row) for row in rows if row[0] != "skip"]
    project = opened.project
    if project is not None and opened.meeting is not None and kind != "mine":
        skips = [(_day(row[4]), _aware(row[10])) for row in rows if row[0] == "skip"]
        events.append(meeting_event(kind, project, opened.meeting, skips))
    if kind != "mine" and project is not None and project.due_date is not None:
        events.append(
            FeedEvent(
                f"{kind}-project-{project.id}@liaison",
                f"{project.name} due",
                project.due_date,
                0,
                project.created_at,
            )
        )
    return sorted(events, key=lambda e: (e.day, e.uid))


def _events_query(opened: OpenedFeed):  # noqa: ANN202 (a SQLAlchemy compound select)
    feed = opened.feed
    milestones = select(
        literal("milestone").label("what"),
        Milestone.id,
        Milestone.number,
        Milestone.title,
        Milestone.due_date,
        null().label("owner"),
        literal("").label("project"),
        Milestone.done_at,
        Milestone.edits,
        Milestone.updated_at,
        Milestone.created_at,
    ).where(Milestone.project_id == feed.project_id)
    actions = (
        select(
            literal("action").label("what"),
            ActionItem.id,
            ActionItem.number,
            ActionItem.title,
            ActionItem.due_date,
            Person.display_name,
            literal("").label("project"),
            ActionItem.done_at,
            ActionItem.edits,
            ActionItem.updated_at,
            ActionItem.created_at,
        )
        .outerjoin(Person, Person.id == ActionItem.owner_id)
        .where(ActionItem.project_id == feed.project_id, ActionItem.due_date.is_not(None))
    )
    skips = select(
        literal("skip").label("what"),
        MeetingSkip.id,
        literal(0).label("number"),
        literal("").label("title"),
        MeetingSkip.day,
        null().label("owner"),
        literal("").label("project"),
        null().label("done_at"),
        literal(0).label("edits"),
        null().label("updated_at"),
        MeetingSkip.created_at,
    ).where(MeetingSkip.project_id == feed.project_id)
    if feed.kind == "client":
        # Only deliverables the client signs off and the client's own action items: what
        # the client view and the client agenda show.
        milestones = milestones.where(Milestone.client_signoff.is_(True))
        actions = actions.where(
            ActionItem.client_owned.is_(true()), ActionItem.internal.is_(false())
        )
        return union_all(milestones, actions, skips)
    tasks = (
        select(
            literal("task").label("what"),
            Task.id,
            Task.number,
            Task.title,
            Task.due_date,
            Person.display_name,
            Project.name,
            Task.done_at,
            Task.edits,
            Task.updated_at,
            Task.created_at,
        )
        .join(Project, Project.id == Task.project_id)
        .outerjoin(Person, Person.id == Task.owner_id)
        .where(Task.due_date.is_not(None))
    )
    if feed.kind == "mine":
        tasks = tasks.where(Task.owner_id == feed.person_id, Project.archived.is_(false()))
        return tasks
    return union_all(milestones, tasks.where(Task.project_id == feed.project_id), actions, skips)


def _event(
    kind: str,
    what: str,
    row_id: int,
    number: int,
    title: str,
    due: date,
    owner: str | None,
    project: str,
    done_at: datetime | None,
    edits: int | None,
    updated_at: datetime | None,
    created_at: datetime,
) -> FeedEvent:
    mark = "✓ " if done_at is not None else ""
    if what == "action":
        who = f" ({owner})" if owner else ""
        summary = f"{mark}Action {number}: {title}{who}"
    elif what == "milestone":
        summary = title if kind == "client" else f"{mark}Milestone M{number}: {title}"
    elif kind == "mine":
        summary = f"{mark}{project}: T{number} {title}"
    else:
        summary = f"{mark}T{number} {title}" + (f" ({owner})" if owner else " (no owner)")
    changed = _aware(updated_at or created_at)
    return FeedEvent(f"{kind}-{what}-{row_id}@liaison", summary, _day(due), edits or 0, changed)


def _day(value: date | str) -> date:
    """A UNION's date column comes back as text on SQLite."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def meeting_event(
    kind: str, project: Project, meeting: Meeting, skips: list[tuple[date, datetime]]
) -> FeedEvent:
    """The client meeting: weekly (or every N weeks) from its first day, in the project's
    zone, with an EXDATE for each of the next meetings that is not held."""
    times = meeting_times(meeting, [day for day, _ in skips])
    project_times = ProjectTimes(
        project.id, project.timezone, project.working_days, project.country
    )
    zone = ZoneInfo(project.timezone)
    start = starts_at(project_times, times, times.anchor).astimezone(zone)
    # Every skip, and the days off among the meetings of the first LOOK_AHEAD_WEEKS (a
    # window fixed by the first day, so that the feed does not change by itself).
    not_held = set(times.skipped) | {
        day for day in meeting_days(times, times.anchor) if not is_held(project_times, times, day)
    }
    exdates = tuple(starts_at(project_times, times, d).astimezone(zone) for d in sorted(not_held))
    rule: dict[str, object] = {"FREQ": "WEEKLY", "BYDAY": ICAL_DAYS[times.weekday - 1]}
    if times.every_weeks > 1:
        rule["INTERVAL"] = times.every_weeks
    changed = max([_aware(meeting.updated_at or meeting.created_at), *(at for _, at in skips)])
    return FeedEvent(
        f"{kind}-meeting-{project.id}@liaison",
        f"{project.name}: client meeting",
        times.anchor,
        (meeting.edits or 0) + len(skips),
        changed,
        Recurrence(start, start + timedelta(minutes=times.length_minutes), rule, exdates),
    )


def _aware(moment: datetime | str) -> datetime:
    """A UNION's columns lose their type on SQLite: read back what it gives."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def feed_body(name: str, zone: str, events: list[FeedEvent], since: datetime) -> FeedBody:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone)
    calendar.add_component(_timezone(zone, [e.day for e in events] or [since.date()]))
    for event in events:
        calendar.add_component(_vevent(event))
    ics = calendar.to_ical()
    last = max([since, *(e.changed for e in events)]).replace(microsecond=0)
    etag = '"' + hashlib.sha256(ics).hexdigest()[:32] + '"'
    return FeedBody(ics, etag, last)


def _timezone(zone: str, days: list[date]) -> Timezone:
    """The project's zone, its transitions only for the years the events span."""
    first, last = min(days), max(days)
    return Timezone.from_tzid(
        zone, first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 2, 1, 1)
    )


def _vevent(event: FeedEvent) -> Event:
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("summary", event.summary)
    recurrence = event.recurrence
    if recurrence is not None:
        vevent.add("dtstart", recurrence.start)
        vevent.add("dtend", recurrence.end)
        vevent.add("rrule", recurrence.rule)
        if recurrence.exdates:
            vevent.add("exdate", list(recurrence.exdates))
    else:
        vevent.add("dtstart", event.day)
        vevent.add("dtend", event.day + timedelta(days=1))
    vevent.add("dtstamp", event.changed.astimezone(UTC))
    vevent.add("last-modified", event.changed.astimezone(UTC))
    vevent.add("sequence", event.sequence)
    # A deadline does not make anyone busy; a meeting does.
    vevent.add("transp", "OPAQUE" if recurrence else "TRANSPARENT")
    return vevent
