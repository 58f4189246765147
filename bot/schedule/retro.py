"""The one scheduled post of a closed project: its retrospective's answers, posted together
to the team side when the retrospective closes (`retro:project=7:2027-03-01`, the day
being the closing's). Read for every closing at once, in one statement, and the answers
in one more only when some retrospective is due: the due-step's statement count stays
independent of the number of projects. Every other scheduled post reads active projects
only.

Room: schedule."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.vocabulary import Target
from bot.domain.schedule import Occurrence, Window, due_occurrence
from storage.models import ChannelLink, Person, Project, RetroAnswer

KIND = "retro"


@dataclass(frozen=True, slots=True)
class Closing:
    project: Project
    team_side: Target | None


async def load_closings(session: AsyncSession, window: Window) -> dict[int, Closing]:
    """Closed projects whose retrospective closes within the window."""
    rows = await session.execute(
        select(Project, ChannelLink)
        .outerjoin(
            ChannelLink, (ChannelLink.project_id == Project.id) & (ChannelLink.side == "team")
        )
        .where(
            Project.archived.is_(True),
            Project.retro_until > window.now - window.lookback,
            Project.retro_until <= window.now,
        )
    )
    return {
        project.id: Closing(
            project,
            link and Target(link.platform, link.tenant, link.channel_id, "channel"),
        )
        for project, link in rows
    }


def retro_occurrences(closings: dict[int, Closing], window: Window) -> list[Occurrence]:
    found = []
    for pid, closing in closings.items():
        project = closing.project
        if project.retro_until is None or project.closed_on is None:
            continue
        found.append(due_occurrence(window, KIND, pid, project.retro_until, project.closed_on))
    return [o for o in found if o]


async def load_retro_answers(
    session: AsyncSession, closings: dict[int, Closing], project_ids: set[int]
) -> dict[int, list[tuple[str, RetroAnswer]]]:
    """The answers of the closings given, by project, for every project in one statement."""
    found: dict[int, list[tuple[str, RetroAnswer]]] = defaultdict(list)
    rows = await session.execute(
        select(Person.display_name, RetroAnswer)
        .join(Person, Person.id == RetroAnswer.person_id)
        .where(RetroAnswer.project_id.in_(project_ids))
        .order_by(RetroAnswer.answered_at)
    )
    for name, answer in rows:
        if answer.closed_on == closings[answer.project_id].project.closed_on:
            found[answer.project_id].append((name, answer))
    return dict(found)
