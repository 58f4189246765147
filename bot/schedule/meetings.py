"""What the due-step reads for client meetings, for every active project at once: the meetings
that are on with their skips, the open action items client people own with a due date, and
(only when some agenda is due) what those agendas show and who gets them by email. A fixed
number of statements whatever the number of projects; a closed project is never read, so it
gets no agenda and no reminder.

Room: schedule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.mailing_list import recipients_wanting
from bot.domain.meetings import MeetingTimes
from bot.views.meeting_data import (
    ActionLine,
    AgendaData,
    load_agendas,
    load_skips,
    meeting_times,
)
from storage.models import ActionItem, Meeting, Person, Project


@dataclass
class Agendas:
    data: dict[int, AgendaData] = field(default_factory=dict)
    emails: dict[int, list[str]] = field(default_factory=dict)  # addresses wanting agendas


async def load_meetings(session: AsyncSession, active: object) -> dict[int, MeetingTimes]:
    meetings = list(
        await session.scalars(
            select(Meeting).where(
                Meeting.enabled.is_(True),
                Meeting.project_id.in_(active),  # type: ignore[arg-type]
            )
        )
    )
    skips = await load_skips(session, [m.project_id for m in meetings]) if meetings else {}
    return {m.project_id: meeting_times(m, skips.get(m.project_id, [])) for m in meetings}


async def load_client_actions(
    session: AsyncSession, active: object, last: date
) -> dict[int, list[ActionLine]]:
    """Open, client-shown action items a client person owns, due by `last` (a reminder is
    due at most a working day before: the due-step reads a few weeks ahead)."""
    found: dict[int, list[ActionLine]] = defaultdict(list)
    rows = await session.execute(
        select(ActionItem, Person.display_name)
        .outerjoin(Person, Person.id == ActionItem.owner_id)
        .where(
            ActionItem.project_id.in_(active),  # type: ignore[arg-type]
            ActionItem.status == "open",
            ActionItem.client_owned.is_(True),
            ActionItem.internal.is_(False),
            ActionItem.due_date <= last,
        )
        .order_by(ActionItem.project_id, ActionItem.number)
    )
    for item, owner in rows:
        found[item.project_id].append(
            ActionLine(item.number, item.title, owner, item.due_date, True, False)
        )
    return dict(found)


async def load_agenda_content(
    session: AsyncSession, projects: Sequence[Project], days: dict[int, date]
) -> Agendas:
    """What the agendas due show, each as of its meeting's day, and their mailing lists."""
    return Agendas(
        await load_agendas(session, projects, days),
        await recipients_wanting(session, list(days), "agenda"),
    )
