"""Reading what status and reports show, in a fixed number of statements per project
(aggregates in SQL, short lists with limits), and building those messages.

`build_report` and `build_status` are what commands and the scheduler call."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import local_date
from bot.domain.snapshot import (
    ChangeFacts,
    DecisionFacts,
    MilestoneFacts,
    ProjectSnapshot,
    RequestFacts,
    RiskFacts,
    TaskFacts,
    TaskTotals,
)
from bot.domain.working_days import WorkCalendar
from bot.ledger import load_budget
from bot.messages import Audience, Message
from storage.models import (
    ChangeRequest,
    ClientRequest,
    Decision,
    Milestone,
    Person,
    Project,
    Risk,
    Task,
)

ATTENTION_LIMIT = 10
REQUEST_LIMIT = 50
ANSWERED_SHOWN_FOR = timedelta(days=14)


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _start_of(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(zone))


async def load_milestones(
    session: AsyncSession, project: Project, today: date
) -> tuple[MilestoneFacts, ...]:
    is_open = Task.status != "done"
    rows = await session.execute(
        select(
            Milestone.number,
            Milestone.title,
            Milestone.due_date,
            Milestone.client_signoff,
            Milestone.done_at,
            Milestone.signed_off_at,
            _count(is_open),
            _count(and_(is_open, Task.due_date < today)),
            _count(Task.status == "blocked"),
            _count(and_(is_open, Task.due_date > Milestone.due_date)),
        )
        .outerjoin(Task, Task.milestone_id == Milestone.id)
        .where(Milestone.project_id == project.id)
        .group_by(Milestone.id)
        .order_by(Milestone.due_date, Milestone.number)
    )
    return tuple(
        MilestoneFacts(
            number=r[0],
            title=r[1],
            due=r[2],
            client_signoff=bool(r[3]),
            done=r[4] is not None,
            signed_off=r[5] is not None,
            open_tasks=int(r[6]),
            overdue_tasks=int(r[7]),
            blocked_tasks=int(r[8]),
            late_tasks=int(r[9]),
        )
        for r in rows
    )


async def load_task_totals(
    session: AsyncSession, project: Project, today: date, week_start: datetime
) -> TaskTotals:
    is_open = Task.status != "done"
    row = (
        await session.execute(
            select(
                _count(is_open),
                _count(Task.status == "done"),
                _count(and_(is_open, Task.due_date < today)),
                _count(Task.status == "blocked"),
                _count(and_(Task.status == "done", Task.done_at >= week_start)),
            ).where(Task.project_id == project.id)
        )
    ).one()
    return TaskTotals(*(int(v) for v in row))


async def load_attention(
    session: AsyncSession, project: Project, today: date
) -> tuple[TaskFacts, ...]:
    rows = await session.execute(
        select(
            Task.number,
            Task.title,
            Person.display_name,
            Task.due_date,
            Task.status,
            Task.blocked_reason,
        )
        .outerjoin(Person, Person.id == Task.owner_id)
        .where(
            Task.project_id == project.id,
            Task.status != "done",
            or_(Task.status == "blocked", Task.due_date < today),
        )
        .order_by(Task.due_date.is_(None), Task.due_date, Task.number)
        .limit(ATTENTION_LIMIT)
    )
    return tuple(TaskFacts(*r) for r in rows)


async def load_open_risks(
    session: AsyncSession, project: Project, *, client_only: bool = False
) -> tuple[RiskFacts, ...]:
    query = (
        select(
            Risk.number,
            Risk.title,
            Risk.likelihood,
            Risk.impact,
            Risk.client_visible,
            Risk.mitigation,
            Person.display_name,
            Risk.review_on,
        )
        .outerjoin(Person, Person.id == Risk.owner_id)
        .where(Risk.project_id == project.id, Risk.status == "open")
        .order_by((Risk.likelihood * Risk.impact).desc(), Risk.likelihood.desc(), Risk.number)
    )
    if client_only:
        query = query.where(Risk.client_visible.is_(True))
    return tuple(RiskFacts(*r) for r in await session.execute(query))


async def load_requests(
    session: AsyncSession, project: Project, since: datetime
) -> tuple[RequestFacts, ...]:
    rows = await session.execute(
        select(
            ClientRequest.number,
            ClientRequest.text,
            ClientRequest.status,
            ClientRequest.created_at,
            ClientRequest.answer,
            Task.due_date,
            Task.status,
            ChangeRequest.number,
            ChangeRequest.status,
        )
        .outerjoin(Task, Task.id == ClientRequest.task_id)
        .outerjoin(ChangeRequest, ChangeRequest.client_request_id == ClientRequest.id)
        .where(
            ClientRequest.project_id == project.id,
            or_(ClientRequest.resolved_at.is_(None), ClientRequest.resolved_at >= since),
        )
        .order_by(ClientRequest.number.desc())
        .limit(REQUEST_LIMIT)
    )
    return tuple(
        RequestFacts(
            number=r[0],
            text=r[1],
            status=r[2],
            raised_on=local_date(r[3], project.timezone),
            answer=r[4],
            task_due=r[5],
            task_done=r[6] == "done",
            change_number=r[7],
            change_status=r[8],
        )
        for r in reversed(list(rows))
    )


async def load_changes(session: AsyncSession, project: Project) -> tuple[ChangeFacts, ...]:
    rows = await session.execute(
        select(
            ChangeRequest.number,
            ChangeRequest.title,
            ChangeRequest.cost,
            ChangeRequest.days,
            ChangeRequest.status,
            ChangeRequest.decided_at,
            Person.display_name,
            ChangeRequest.decided_on_behalf,
            ChangeRequest.reason,
        )
        .outerjoin(Person, Person.id == ChangeRequest.decided_by_id)
        .where(ChangeRequest.project_id == project.id)
        .order_by(ChangeRequest.number)
    )
    return tuple(
        ChangeFacts(
            number=r[0],
            title=r[1],
            price=Decimal(r[2]).quantize(Decimal("0.01")),
            days=r[3],
            status=r[4],
            decided_on=local_date(r[5], project.timezone) if r[5] else None,
            decided_by=r[6],
            on_behalf=bool(r[7]),
            reason=r[8],
        )
        for r in rows
    )


async def load_decisions(
    session: AsyncSession, project: Project, since: datetime
) -> tuple[DecisionFacts, ...]:
    rows = await session.execute(
        select(Decision.title, Person.display_name, Decision.decided_at)
        .join(Person, Person.id == Decision.decided_by_id)
        .where(Decision.project_id == project.id, Decision.decided_at >= since)
        .order_by(Decision.decided_at, Decision.number)
    )
    return tuple(DecisionFacts(t, who, local_date(at, project.timezone)) for t, who, at in rows)


def calendar_of(project: Project, today: date) -> WorkCalendar:
    return WorkCalendar.of(
        project.working_days, project.country, range(today.year - 1, today.year + 2)
    )


async def load_snapshot(
    session: AsyncSession, project: Project, today: date, audience: Audience
) -> ProjectSnapshot:
    """Everything status and reports show. A client load never reads money, internal risks
    or decisions, so they cannot end up in a client message by mistake."""
    client = audience == "client"
    week_start = _start_of(today - timedelta(days=6), project.timezone)
    answered_since = _start_of(today, project.timezone) - ANSWERED_SHOWN_FOR
    return ProjectSnapshot(
        name=project.name,
        client_name=project.client_name,
        currency=project.currency,
        today=today,
        due_date=project.due_date,
        calendar=calendar_of(project, today),
        milestones=await load_milestones(session, project, today),
        tasks=await load_task_totals(session, project, today, week_start),
        attention=() if client else await load_attention(session, project, today),
        risks=await load_open_risks(session, project, client_only=client),
        requests=await load_requests(session, project, answered_since),
        changes=await load_changes(session, project),
        decisions=() if client else await load_decisions(session, project, week_start),
        budget=None if client else await load_budget(session, project, today),
    )


async def build_report(
    session: AsyncSession, project: Project, today: date, audience: Audience
) -> Message:
    """The weekly status report for the team (`internal`) or the client (`client`)."""
    from bot import report_views
    from bot.charts import attach, report_charts

    snapshot = await load_snapshot(session, project, today, audience)
    charts = await report_charts(session, project, snapshot, audience)
    if audience == "client":
        return attach(report_views.client_report(snapshot), *charts)
    return attach(report_views.internal_report(snapshot), *charts)


async def build_status(
    session: AsyncSession, project: Project, today: date, audience: Audience
) -> Message:
    from bot import report_views

    snapshot = await load_snapshot(session, project, today, audience)
    if audience == "client":
        return report_views.client_status(snapshot)
    return report_views.internal_status(snapshot)
