"""Reading what a project's end shows: the final report's figures, the client's closing
summary (deliverables signed off, approved changes), the survey and the retrospective.
A handful of aggregate statements for one project, whatever its size.

Room: views."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import local_date
from bot.domain.closeout_rules import (
    FinalFigures,
    MilestoneEnd,
    PersonTime,
    SurveyFigures,
    average,
)
from bot.views.ledger import _from_cents, _sum_cents, load_budget
from storage.models import (
    ChangeRequest,
    Milestone,
    Person,
    Project,
    RetroAnswer,
    SurveyAnswer,
    Task,
)


async def load_final_figures(session: AsyncSession, project: Project) -> FinalFigures:
    closed_on = project.closed_on or date.today()
    ledger = await load_budget(session, project, closed_on)
    milestones = (
        await session.execute(
            select(Milestone.due_date, Milestone.done_at).where(Milestone.project_id == project.id)
        )
    ).all()
    done = Task.status == "done"
    tasks_done, tasks_open = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((done, 1), else_=0)), 0),
                func.coalesce(func.sum(case((done, 0), else_=1)), 0),
            ).where(Task.project_id == project.id)
        )
    ).one()
    approved = (
        await session.execute(
            select(
                func.count(ChangeRequest.id),
                _sum_cents(ChangeRequest.cost),
                func.sum(ChangeRequest.days),
            ).where(ChangeRequest.project_id == project.id, ChangeRequest.status == "approved")
        )
    ).one()
    return FinalFigures(
        name=project.name,
        currency=project.currency,
        budget=project.budget,
        spent=ledger.spent,
        due_date=project.due_date,
        delivered_on=closed_on,
        milestones=tuple(
            MilestoneEnd(due, local_date(done, project.timezone) if done else None)
            for due, done in milestones
        ),
        tasks_done=int(tasks_done),
        tasks_open=int(tasks_open),
        changes_approved=approved[0],
        changes_cost=_from_cents(approved[1]),
        changes_days=int(approved[2] or 0),
        time=tuple(PersonTime(name, hours) for name, hours, _ in ledger.by_person),
        survey=await load_survey(session, project.id),
    )


async def load_survey(session: AsyncSession, project_id: int) -> SurveyFigures | None:
    rows = (
        await session.execute(
            select(SurveyAnswer, Person.display_name)
            .join(Person, Person.id == SurveyAnswer.person_id)
            .where(SurveyAnswer.project_id == project_id)
            .order_by(SurveyAnswer.answered_at)
        )
    ).all()
    if not rows:
        return None
    return SurveyFigures(
        answers=len(rows),
        satisfaction=average([a.satisfaction for a, _ in rows]),
        recommend=average([a.recommend for a, _ in rows]),
        comments=tuple((name, a.comment) for a, name in rows if a.comment),
    )


async def load_signed_off(session: AsyncSession, project_id: int) -> list[str]:
    """The titles of the deliverables the client signed off."""
    return list(
        await session.scalars(
            select(Milestone.title)
            .where(Milestone.project_id == project_id, Milestone.signed_off_at.is_not(None))
            .order_by(Milestone.due_date, Milestone.number)
        )
    )


async def load_approved_changes(session: AsyncSession, project_id: int) -> list[ChangeRequest]:
    return list(
        await session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.project_id == project_id, ChangeRequest.status == "approved")
            .order_by(ChangeRequest.number)
        )
    )


async def load_retro(
    session: AsyncSession, project_id: int, closed_on: date
) -> list[tuple[str, RetroAnswer]]:
    rows = await session.execute(
        select(Person.display_name, RetroAnswer)
        .join(Person, Person.id == RetroAnswer.person_id)
        .where(RetroAnswer.project_id == project_id, RetroAnswer.closed_on == closed_on)
        .order_by(RetroAnswer.answered_at)
    )
    return [(name, answer) for name, answer in rows]
