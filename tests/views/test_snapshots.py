"""Snapshots of many projects read at once: each project gets exactly what reading it alone
gives (its own dates in its own zone, its own short lists cut to their limits), in the
statements of one project."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.snapshot import client_part
from bot.views import snapshots
from bot.views.reports import load_snapshot, load_snapshots
from storage.models import (
    ChangeRequest,
    ClientRequest,
    Decision,
    Expense,
    Milestone,
    Person,
    Project,
    Risk,
    Task,
    Tenant,
)
from tests.conftest import StatementCounter, _listening

CREATED = datetime(2026, 11, 1, tzinfo=UTC)
# Tokyo's week (ending Sat 5 Dec) starts 28 Nov 15:00 UTC; Berlin's (ending Fri 4 Dec)
# starts 27 Nov 23:00 UTC. Things done at these instants count in one week but not the other.
IN_BOTH_WEEKS = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
ONLY_IN_BERLINS_WEEK = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
TODAY = {1: date(2026, 12, 5), 2: date(2026, 12, 4), 3: date(2026, 12, 4)}


def project(pid: int, zone: str, budget: str | None) -> Project:
    return Project(
        id=pid,
        tenant_id=1,
        name=f"P{pid}",
        client_name="C",
        timezone=zone,
        currency="USD",
        budget=Decimal(budget) if budget else None,
        start_date=date(2026, 11, 1),
        due_date=date(2027, 3, 1),
        created_at=CREATED,
    )


def busy_rows(pid: int, many: bool) -> list[object]:
    """Overdue, blocked and done tasks, requests, decisions, risks, changes, a milestone."""
    beta = Milestone(
        id=pid,
        project_id=pid,
        number=1,
        title="Beta",
        due_date=date(2026, 12, 10),
        client_signoff=True,
        created_at=CREATED,
    )
    overdue = 13 if many else 2
    tasks = [
        Task(project_id=pid, number=n, title=f"Late {n}", owner_id=1, milestone_id=pid,
             due_date=date(2026, 11, 10) + timedelta(days=n), status="open", created_at=CREATED)
        for n in range(1, overdue + 1)
    ]  # fmt: skip
    tasks += [
        Task(project_id=pid, number=50, title="Due Friday", due_date=date(2026, 12, 4),
             status="open", created_at=CREATED),
        Task(project_id=pid, number=51, title="Stuck", status="blocked", blocked_reason="keys",
             created_at=CREATED),
        Task(project_id=pid, number=52, title="Done Sat evening", status="done",
             done_at=IN_BOTH_WEEKS, created_at=CREATED),
        Task(project_id=pid, number=53, title="Done Sat afternoon", status="done",
             done_at=ONLY_IN_BERLINS_WEEK, created_at=CREATED),
    ]  # fmt: skip
    requests = [
        ClientRequest(project_id=pid, number=n, text=f"Ask {n}", raised_by_id=1, status="open",
                      created_at=CREATED + timedelta(hours=n))
        for n in range(1, (56 if many else 3) + 1)
    ]  # fmt: skip
    requests += [
        ClientRequest(project_id=pid, number=100, text="Old answer", raised_by_id=1,
                      status="answered", answer="no", created_at=CREATED,
                      resolved_at=datetime(2026, 11, 15, tzinfo=UTC)),
        ClientRequest(project_id=pid, number=101, text="New answer", raised_by_id=1,
                      status="answered", answer="yes", created_at=CREATED,
                      resolved_at=datetime(2026, 12, 2, tzinfo=UTC)),
    ]  # fmt: skip
    others: list[object] = [
        Decision(project_id=pid, number=1, title="Both weeks", decided_by_id=1,
                 decided_at=IN_BOTH_WEEKS),
        Decision(project_id=pid, number=2, title="Berlin's week", decided_by_id=1,
                 decided_at=ONLY_IN_BERLINS_WEEK),
        Risk(project_id=pid, number=1, title="Shared", likelihood=2, impact=2,
             client_visible=True, created_at=CREATED),
        Risk(project_id=pid, number=2, title="Internal", likelihood=3, impact=3,
             created_at=CREATED),
        ChangeRequest(project_id=pid, number=1, title="Blog", cost=Decimal("400"), days=2,
                      raised_by_id=1, created_at=CREATED),
        Expense(project_id=pid, amount=Decimal("1000") * pid, description="x",
                spent_on=date(2026, 11, 20), created_at=CREATED),
    ]  # fmt: skip
    return [beta, *tasks, *requests, *others]


async def setup(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        session.add(Tenant(id=1, platform="console", external_id="local", created_at=CREATED))
        session.add(
            Person(
                id=1,
                platform="console",
                external_id="ann",
                home_tenant="local",
                display_name="ann",
                created_at=CREATED,
            )
        )
        await session.flush()
        session.add_all(
            [
                project(1, "Asia/Tokyo", "50000"),
                project(2, "Europe/Berlin", "20000"),
                project(3, "America/New_York", None),  # nothing in it at all
            ]
        )
        await session.flush()
        session.add_all(busy_rows(1, many=True))
        await session.flush()
        session.add_all(busy_rows(2, many=False))


async def test_many_projects_read_at_once_are_what_each_reads_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await setup(sessions)
    async with sessions() as session:
        projects = list(await session.scalars(select(Project).order_by(Project.id)))
        together = await load_snapshots(session, projects, TODAY)
        alone = {p.id: await load_snapshot(session, p, TODAY[p.id], "internal") for p in projects}
        clients = {p.id: await load_snapshot(session, p, TODAY[p.id], "client") for p in projects}
    assert together == alone
    tokyo, berlin, empty = together[1], together[2], together[3]
    # Each project's own dates: Friday's task is overdue on Saturday in Tokyo only, and
    # each week starts at midnight in the project's zone.
    assert (tokyo.tasks.overdue, berlin.tasks.overdue) == (14, 2)
    assert (tokyo.tasks.done_this_week, berlin.tasks.done_this_week) == (1, 2)
    assert [d.title for d in tokyo.decisions] == ["Both weeks"]
    assert [d.title for d in berlin.decisions] == ["Berlin's week", "Both weeks"]
    # Short lists are cut per project, not across projects.
    assert [t.number for t in tokyo.attention] == list(range(1, 11))
    assert [t.number for t in berlin.attention] == [1, 2, 51]
    assert [r.number for r in tokyo.requests] == [*range(8, 57), 101]
    assert [r.number for r in berlin.requests] == [1, 2, 3, 101]
    assert tokyo.milestones[0].open_tasks == 13 and tokyo.milestones[0].overdue_tasks == 13
    assert [r.title for r in tokyo.risks] == ["Internal", "Shared"]
    assert tokyo.budget is not None and tokyo.budget.spent == Decimal("1000.00")
    assert berlin.budget is not None and berlin.budget.spent == Decimal("2000.00")
    assert empty.tasks.open == 0 and not (empty.milestones or empty.requests or empty.risks)
    assert empty.today == date(2026, 12, 4) and empty.budget is not None
    # What the scheduler derives for the client is exactly what a client load reads.
    for pid, snapshot in together.items():
        assert client_part(snapshot) == clients[pid]
    assert [r.title for r in clients[1].risks] == ["Shared"] and clients[1].budget is None


async def test_reading_many_projects_costs_the_statements_of_one(
    sessions: async_sessionmaker[AsyncSession], statements: StatementCounter
) -> None:
    await setup(sessions)
    counts = {}
    async with sessions() as session:
        projects = list(await session.scalars(select(Project).order_by(Project.id)))
        for audience in ("internal", "client"):
            for some in (projects[:1], projects):
                statements.reset()
                await load_snapshots(session, some, TODAY, audience)
                counts[audience, len(some)] = statements.count
    # Every part (milestones, task counts and the budget's sums, attention, risks,
    # requests, changes, decisions, the pulse trend) in one statement, for any audience.
    assert counts["internal", 1] == counts["internal", 3] == 1
    assert counts["client", 1] == counts["client", 3] == 1
    async with sessions() as session:
        statements.reset()
        await load_snapshots(session, projects, TODAY, "internal", for_status=True)
        assert statements.count == 1


async def test_every_projects_snapshot_is_one_statement_text(
    sessions: async_sessionmaker[AsyncSession], statements: StatementCounter, monkeypatch: Any
) -> None:
    """A command's project is a parameter, not part of the SQL: the database prepares the
    statement once per connection and may keep its plan, where a text of its own for each
    project was parsed and planned anew (on PostgreSQL, planning the status statement cost
    more than running it). Beyond INLINE_AS_OF_UP_TO projects the ids are written into the
    SQL, so that parameters do not grow with the morning's thousands."""
    await setup(sessions)
    texts = []
    async with sessions() as session:
        projects = list(await session.scalars(select(Project).order_by(Project.id)))
        for one in projects:
            statements.reset()
            await load_snapshots(session, [one], TODAY)
            (sql,) = statements.statements
            texts.append(sql)
        assert texts[0] == texts[1] == texts[2], "a project's id is written into its SQL"
        # One project is one parameter, not an IN list of one: SQLAlchemy writes a list out
        # anew at every execution, in every part of the statement that reads the dates.
        assert "projects.id IN" not in texts[0] and "projects.id = " in texts[0], texts[0]
        statements.reset()
        await load_snapshots(session, projects, TODAY)
        few = statements.statements[0]
        monkeypatch.setattr(snapshots, "INLINE_AS_OF_UP_TO", 2)
        statements.reset()
        await load_snapshots(session, projects, TODAY)
        many = statements.statements[0]
    assert "IN (1)" not in few and "IN (2)" not in few
    assert "IN (1)" in many and "IN (2)" in many


PER_PROJECT_TABLES = (
    "tasks",
    "milestones",
    "risks",
    "client_requests",
    "change_requests",
    "pulses",
)


class _LastStatement:
    """The SQL and parameters of the last statement sent to the database."""

    sql: str = ""
    parameters: Any = None

    def __call__(self, _conn, _cursor, statement, parameters, _context, _many) -> None:  # noqa: ANN001
        self.sql, self.parameters = statement, parameters


async def _plan_of_loading(
    db: AsyncEngine, sessions: async_sessionmaker[AsyncSession], project_ids: list[int]
) -> list[str]:
    """The database's plan of the statement that loads these projects' snapshots."""
    last = _LastStatement()
    async with sessions() as session:
        projects = [await session.get_one(Project, pid) for pid in project_ids]
        with _listening(db.sync_engine, "before_cursor_execute", last):
            await load_snapshots(session, projects, TODAY, "internal", for_status=True)
        connection = await session.connection()
        explain = "EXPLAIN QUERY PLAN" if db.dialect.name == "sqlite" else "EXPLAIN"
        found = await connection.exec_driver_sql(f"{explain} {last.sql}", last.parameters)
        return [row[-1] for row in found]


async def test_one_projects_snapshot_reads_only_that_projects_rows(
    db: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The projects' dates (`as_of`) are read by every part of the statement: filled once
    and joined, the planner scans every project's tasks, risks and requests for a match
    (a status cost 2.5 ms of SQLite among 50 projects instead of 0.4). Inlined, each part
    finds its projects by id first."""
    await setup(sessions)
    plan = await _plan_of_loading(db, sessions, [2])
    if db.dialect.name == "sqlite":
        scanned = {step.split()[1] for step in plan if step.startswith("SCAN ")}
        assert "SEARCH projects USING INTEGER PRIMARY KEY (rowid=?)" in plan
        assert not scanned & set(PER_PROJECT_TABLES), plan
    else:
        assert plan and not any("CTE Scan" in step for step in plan), plan


async def test_the_dates_of_many_projects_are_filled_once(
    db: AsyncEngine, sessions: async_sessionmaker[AsyncSession], monkeypatch: Any
) -> None:
    """Beyond a few projects (the morning's thousands) each part would read the long list
    of ids again: the table is filled once instead."""
    monkeypatch.setattr(snapshots, "INLINE_AS_OF_UP_TO", 2)
    await setup(sessions)
    plan = await _plan_of_loading(db, sessions, [1, 2, 3])
    if db.dialect.name == "sqlite":
        assert "MATERIALIZE as_of" in plan, plan
    else:
        assert any("CTE Scan on as_of" in step for step in plan), plan
