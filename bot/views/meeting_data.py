"""Reading what client meetings show: the meeting's settings and skips, the team's questions,
action items, and the minutes' notes and decisions. Each list is read for many projects in
one statement (the due-step reads every project whose agenda is due at once); the agenda's
milestones, approvals, requests, risks, budget and pulse come from the snapshots that
status and reports read (`bot.views.snapshots`).

Room: views."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.meetings import MeetingTimes
from bot.domain.snapshot import ProjectSnapshot
from bot.views.link_data import load_client_links
from bot.views.snapshots import load_snapshots
from storage.models import (
    ActionItem,
    Decision,
    Meeting,
    MeetingNote,
    MeetingQuestion,
    MeetingSkip,
    Person,
    Project,
)


@dataclass(frozen=True, slots=True)
class ActionLine:
    number: int
    title: str
    owner: str | None
    due: date | None
    client_owned: bool
    internal: bool
    done: bool = False


@dataclass(frozen=True, slots=True)
class AgendaData:
    snapshot: ProjectSnapshot  # the internal one: the client agenda reads its client part
    questions: tuple[str, ...] = ()
    actions: tuple[ActionLine, ...] = ()  # open ones
    client_links: tuple[tuple[str, str], ...] = ()  # client-flagged documents, (label, url)


@dataclass(frozen=True, slots=True)
class NoteLine:
    text: str
    internal: bool
    author: str


@dataclass(frozen=True, slots=True)
class MinutesData:
    since: datetime
    notes: tuple[NoteLine, ...] = ()
    decisions: tuple[str, ...] = ()  # internal: the decision log is the team's
    actions: tuple[ActionLine, ...] = ()  # made since the meeting started


def meeting_times(meeting: Meeting, skipped: Sequence[date] = ()) -> MeetingTimes:
    return MeetingTimes(
        weekday=meeting.weekday,
        local_time=meeting.local_time,
        every_weeks=meeting.every_weeks,
        anchor=meeting.anchor,
        length_minutes=meeting.length_minutes,
        agenda_minutes=meeting.agenda_minutes,
        skipped=frozenset(skipped),
    )


async def load_skips(session: AsyncSession, project_ids: Sequence[int]) -> dict[int, list[date]]:
    found: dict[int, list[date]] = defaultdict(list)
    if not project_ids:
        return found
    rows = await session.execute(
        select(MeetingSkip.project_id, MeetingSkip.day)
        .where(MeetingSkip.project_id.in_(list(project_ids)))
        .order_by(MeetingSkip.project_id, MeetingSkip.day)
    )
    for project_id, day in rows:
        found[project_id].append(day)
    return found


async def load_meeting(
    session: AsyncSession, project_id: int
) -> tuple[Meeting, MeetingTimes] | None:
    """The project's client meeting while it is on, with its skips."""
    meeting = await session.get(Meeting, project_id)
    if meeting is None or not meeting.enabled:
        return None
    skips = await load_skips(session, [project_id])
    return meeting, meeting_times(meeting, skips.get(project_id, []))


def _action_line(item: ActionItem, owner: str | None) -> ActionLine:
    return ActionLine(
        item.number,
        item.title,
        owner,
        item.due_date,
        item.client_owned,
        item.internal,
        item.status == "done",
    )


async def load_actions(
    session: AsyncSession,
    project_ids: Sequence[int],
    *,
    open_only: bool = True,
    since: datetime | None = None,
) -> dict[int, list[ActionLine]]:
    """Action items by project, by number: the open ones, or all, or those made since."""
    found: dict[int, list[ActionLine]] = defaultdict(list)
    if not project_ids:
        return found
    query = (
        select(ActionItem, Person.display_name)
        .outerjoin(Person, Person.id == ActionItem.owner_id)
        .where(ActionItem.project_id.in_(list(project_ids)))
        .order_by(ActionItem.project_id, ActionItem.number)
    )
    if open_only:
        query = query.where(ActionItem.status == "open")
    if since is not None:
        query = query.where(ActionItem.created_at >= since)
    for item, owner in await session.execute(query):
        found[item.project_id].append(_action_line(item, owner))
    return found


async def load_questions(session: AsyncSession, project_ids: Sequence[int]) -> dict[int, list[str]]:
    """The questions for the next meeting (asked since the last `meeting done`)."""
    found: dict[int, list[str]] = defaultdict(list)
    if not project_ids:
        return found
    rows = await session.execute(
        select(MeetingQuestion.project_id, MeetingQuestion.text)
        .where(
            MeetingQuestion.project_id.in_(list(project_ids)),
            MeetingQuestion.closed_at.is_(None),
        )
        .order_by(MeetingQuestion.project_id, MeetingQuestion.id)
    )
    for project_id, text in rows:
        found[project_id].append(text)
    return found


async def load_agendas(
    session: AsyncSession, projects: Sequence[Project], days: Mapping[int, date]
) -> dict[int, AgendaData]:
    """What each agenda due shows, as of its meeting's day, for every project at once."""
    ids = [p.id for p in projects]
    snapshots = await load_snapshots(session, projects, days)
    questions = await load_questions(session, ids)
    actions = await load_actions(session, ids)
    links = await load_client_links(session, ids)
    return {
        pid: AgendaData(
            snapshot,
            tuple(questions.get(pid, ())),
            tuple(actions.get(pid, ())),
            tuple(links.get(pid, ())),
        )
        for pid, snapshot in snapshots.items()
    }


async def load_minutes(session: AsyncSession, project_id: int, since: datetime) -> MinutesData:
    """The notes, decisions and action items of one project since `since`."""
    notes = await session.execute(
        select(MeetingNote.text, MeetingNote.internal, Person.display_name)
        .outerjoin(Person, Person.id == MeetingNote.author_id)
        .where(MeetingNote.project_id == project_id, MeetingNote.created_at >= since)
        .order_by(MeetingNote.created_at, MeetingNote.id)
    )
    decisions = await session.scalars(
        select(Decision.title)
        .where(Decision.project_id == project_id, Decision.decided_at >= since)
        .order_by(Decision.number)
    )
    actions = await load_actions(session, [project_id], open_only=False, since=since)
    return MinutesData(
        since,
        tuple(NoteLine(text, internal, author or "someone") for text, internal, author in notes),
        tuple(decisions),
        tuple(actions.get(project_id, ())),
    )
