"""Reading snapshots (what status and reports show) for one project or many, in the same
fixed number of statements: aggregates in SQL grouped by project, short lists ranked per
project (`ROW_NUMBER() OVER (PARTITION BY project_id ...)`) and cut to their limit, and
each project's own dates (today, the start of its week, in its zone) joined in as a small
table. A command reads one project through the same code; the scheduler reads all the
projects whose weekly report is due at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, and_, bindparam, case, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import local_date
from bot.domain.budget import summarise
from bot.domain.snapshot import (
    HIGH_RISK_SCORE,
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
from bot.messages import Audience
from bot.views.ledger import figures_of_totals, ledger_sums
from bot.views.pulse_data import pulse_trends_of, pulses_query
from storage.models import (
    ChangeRequest,
    ClientRequest,
    Decision,
    Milestone,
    Person,
    Project,
    Pulse,
    Risk,
    Task,
    UTCDateTime,
)
from storage.reads import column_row_sets

ATTENTION_LIMIT = 10
REQUEST_LIMIT = 50
ANSWERED_SHOWN_FOR = timedelta(days=14)

T = TypeVar("T")
Rows = Sequence[Sequence[Any]]
Grouped = dict[int, tuple[T, ...]]


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _start_of(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(zone))


def week_start(day: date, zone: str) -> datetime:
    """The start of the report's week: the six days before `day`, and `day` itself."""
    return _start_of(day - timedelta(days=6), zone)


class AsOf(NamedTuple):
    """The `as_of` table (see there) and the values of its parameters."""

    table: Any
    params: dict[str, Any]


# Up to this many projects the `as_of` table is written into each part that reads it
# (see _as_of_table); more, and it is filled once.
INLINE_AS_OF_UP_TO = 64


@lru_cache(maxsize=16)
def _as_of_table(pairs: int, inline: bool, one: bool = False) -> Any:
    parts = [
        select(
            Project.id.label("project_id"),
            bindparam(f"today_{n}", type_=Date).label("today"),
            bindparam(f"week_{n}", type_=UTCDateTime()).label("week_start"),
            bindparam(f"answered_{n}", type_=UTCDateTime()).label("answered_since"),
        ).where(_is_one_of(n, inline, one))
        for n in range(pairs)
    ]
    table = (parts[0] if pairs == 1 else union_all(*parts)).cte("as_of")
    # A statement reads the table in each of its parts. Filled once (materialized), each
    # part then scans every project's rows for a match: a status among 50 projects cost
    # 2.5 ms of SQLite instead of 0.4. Inlined, each part finds its few projects by id
    # first; but for the morning's thousands of projects the long IN list would be read
    # again in each part, and filling it once is faster (bench/: 9.2 s, not 12).
    return table.prefix_with("NOT MATERIALIZED") if inline else table


def _is_one_of(n: int, inline: bool, one: bool) -> Any:
    """The projects of pair `n`: `ids_n`, one id (`one`) or a list. A list is an expanding
    IN, which SQLAlchemy writes out anew at every execution, in every part of the statement
    that reads the table: 6% of the serving process's time for an uncached status, for the
    one project it nearly always is (bench/, PostgreSQL). One id is a plain parameter."""
    if one:
        return Project.id == bindparam(f"ids_{n}", type_=Integer)
    ids = bindparam(f"ids_{n}", type_=Integer, expanding=True, literal_execute=not inline)
    return Project.id.in_(ids)


def as_of(projects: Sequence[Project], today: Mapping[int, date]) -> AsOf:
    """Each project's own dates as a table to join on `project_id`: its today, the start of
    its week and since when answered requests still show.

    The dates depend only on (day, zone), so there is one SELECT per distinct pair, its
    dates as parameters and its projects as an expanding IN. The table, and so each
    statement reading it, depends only on the number of pairs (usually one): the
    statements are built once and their compiled form is cached, instead of built and
    compiled again on every request as with a VALUES table.

    Up to INLINE_AS_OF_UP_TO projects (a command's one project) the ids are parameters
    too, so the SQL is the same text for every project and the database prepares it once
    per connection and may keep its plan: with the ids written into it, each project's status
    was a statement new to PostgreSQL, planned afresh (2.5 ms of its time, more than
    running it). Beyond that (the morning's thousands) the ids are written into the SQL
    at execution (`literal_execute`): parameters then do not grow with the number of
    projects (both backends cap them at about 32,000 a statement)."""
    buckets: dict[tuple[date, str], list[int]] = defaultdict(list)
    for project in projects:
        buckets[(today[project.id], project.timezone)].append(int(project.id))
    params: dict[str, Any] = {}
    for n, ((day, zone), ids) in enumerate(buckets.items()):
        params[f"today_{n}"] = day
        params[f"week_{n}"] = week_start(day, zone)
        params[f"answered_{n}"] = _start_of(day, zone) - ANSWERED_SHOWN_FOR
        params[f"ids_{n}"] = ids
    inline = len(projects) <= INLINE_AS_OF_UP_TO
    if len(projects) == 1:
        params["ids_0"] = int(projects[0].id)
        return AsOf(_as_of_table(1, inline, one=True), params)
    return AsOf(_as_of_table(len(buckets), inline), params)


def _grouped(rows: Iterable[Any], make: Callable[[Any], T]) -> Grouped[T]:
    """Rows whose first column is the project id, as each project's tuple of `make(row)`."""
    found: dict[int, list[T]] = defaultdict(list)
    for row in rows:
        found[row[0]].append(make(row))
    return {project_id: tuple(items) for project_id, items in found.items()}


@lru_cache(maxsize=16)
def _milestones_query(dates: Any) -> Any:
    is_open = Task.status != "done"
    return (
        select(
            Milestone.project_id,
            Milestone.number,
            Milestone.title,
            Milestone.due_date,
            Milestone.client_signoff,
            Milestone.done_at,
            Milestone.signed_off_at,
            _count(is_open),
            _count(and_(is_open, Task.due_date < dates.c.today)),
            _count(Task.status == "blocked"),
            _count(and_(is_open, Task.due_date > Milestone.due_date)),
        )
        .join(dates, dates.c.project_id == Milestone.project_id)
        .outerjoin(Task, Task.milestone_id == Milestone.id)
        .group_by(Milestone.id)
        .order_by(Milestone.project_id, Milestone.due_date, Milestone.number)
    )


def _milestones_of(rows: Rows) -> Grouped[MilestoneFacts]:
    return _grouped(
        rows,
        lambda r: MilestoneFacts(
            number=r[1],
            title=r[2],
            due=r[3],
            client_signoff=bool(r[4]),
            done=r[5] is not None,
            signed_off=r[6] is not None,
            open_tasks=int(r[7]),
            overdue_tasks=int(r[8]),
            blocked_tasks=int(r[9]),
            late_tasks=int(r[10]),
        ),
    )


@lru_cache(maxsize=16)
def _totals_query(dates: Any, money: bool) -> Any:
    """Each project's task counts and, with `money`, the sums its budget is made of: one
    row per project, a project without tasks included."""
    is_open = Task.status != "done"
    query = (
        select(
            dates.c.project_id,
            _count(is_open),
            _count(Task.status == "done"),
            _count(and_(is_open, Task.due_date < dates.c.today)),
            _count(Task.status == "blocked"),
            _count(and_(Task.status == "done", Task.done_at >= dates.c.week_start)),
        )
        .select_from(dates)
        .outerjoin(Task, Task.project_id == dates.c.project_id)
        .group_by(dates.c.project_id)
    )
    return query.add_columns(*ledger_sums(dates.c.project_id)) if money else query


class Totals(NamedTuple):
    tasks: TaskTotals
    money: tuple[object, object] | None  # expenses and time cost, in whole cents


def _totals_of(rows: Rows, *, money: bool) -> dict[int, Totals]:
    """Task counts, and with `money` the ledger's sums, of each project."""
    return {
        r[0]: Totals(TaskTotals(*(int(v) for v in r[1:6])), (r[6], r[7]) if money else None)
        for r in rows
    }


def _ranked(query: Any, partition: Any, order: Sequence[Any], limit: int) -> Any:
    """The first `limit` rows of `query` per project, in `order`, ranked in SQL."""
    rank = func.row_number().over(partition_by=partition, order_by=order).label("rn")
    ranked = query.add_columns(rank).subquery()
    columns = [c for c in ranked.c if c.name != "rn"]
    return select(*columns).where(ranked.c.rn <= limit).order_by(ranked.c[0], ranked.c.rn)


@lru_cache(maxsize=16)
def _attention_query(dates: Any) -> Any:
    query = (
        select(
            Task.project_id,
            Task.number,
            Task.title,
            Person.display_name.label("owner"),
            Task.due_date,
            Task.status,
            Task.blocked_reason,
        )
        .join(dates, dates.c.project_id == Task.project_id)
        .outerjoin(Person, Person.id == Task.owner_id)
        .where(Task.status != "done", or_(Task.status == "blocked", Task.due_date < dates.c.today))
    )
    order = (Task.due_date.is_(None), Task.due_date, Task.number)
    return _ranked(query, Task.project_id, order, ATTENTION_LIMIT)


def _attention_of(rows: Rows) -> Grouped[TaskFacts]:
    """Blocked and overdue open tasks, the first few of each project."""
    return _grouped(rows, lambda r: TaskFacts(*r[1:]))


@lru_cache(maxsize=16)
def _risks_query(dates: Any, client_only: bool, high_only: bool) -> Any:
    query = (
        select(
            Risk.project_id,
            Risk.number,
            Risk.title,
            Risk.likelihood,
            Risk.impact,
            Risk.client_visible,
            Risk.mitigation,
            Person.display_name,
            Risk.review_on,
        )
        .join(dates, dates.c.project_id == Risk.project_id)
        .outerjoin(Person, Person.id == Risk.owner_id)
        .where(Risk.status == "open")
        .order_by(
            Risk.project_id,
            (Risk.likelihood * Risk.impact).desc(),
            Risk.likelihood.desc(),
            Risk.number,
        )
    )
    if client_only:
        query = query.where(Risk.client_visible.is_(True))
    if high_only:
        query = query.where(Risk.likelihood * Risk.impact >= HIGH_RISK_SCORE)
    return query


def _risks_of(rows: Rows) -> Grouped[RiskFacts]:
    return _grouped(rows, lambda r: RiskFacts(*r[1:]))


@lru_cache(maxsize=16)
def _requests_query(dates: Any) -> Any:
    query = (
        select(
            ClientRequest.project_id,
            ClientRequest.number,
            ClientRequest.text,
            ClientRequest.status,
            ClientRequest.created_at,
            ClientRequest.answer,
            Task.due_date.label("task_due"),
            Task.status.label("task_status"),
            ChangeRequest.number.label("change_number"),
            ChangeRequest.status.label("change_status"),
        )
        .join(dates, dates.c.project_id == ClientRequest.project_id)
        .outerjoin(Task, Task.id == ClientRequest.task_id)
        .outerjoin(ChangeRequest, ChangeRequest.client_request_id == ClientRequest.id)
        .where(
            or_(
                ClientRequest.resolved_at.is_(None),
                ClientRequest.resolved_at >= dates.c.answered_since,
            )
        )
    )
    return _ranked(query, ClientRequest.project_id, (ClientRequest.number.desc(),), REQUEST_LIMIT)


def _requests_of(rows: Rows, zones: Mapping[int, str]) -> Grouped[RequestFacts]:
    """Unanswered requests and those answered lately: the newest ones, oldest first."""
    grouped = _grouped(
        rows,
        lambda r: RequestFacts(
            number=r[1],
            text=r[2],
            status=r[3],
            raised_on=local_date(r[4], zones[r[0]]),
            answer=r[5],
            task_due=r[6],
            task_done=r[7] == "done",
            change_number=r[8],
            change_status=r[9],
        ),
    )
    return {project_id: tuple(reversed(found)) for project_id, found in grouped.items()}


@lru_cache(maxsize=16)
def _changes_query(dates: Any) -> Any:
    return (
        select(
            ChangeRequest.project_id,
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
        .join(dates, dates.c.project_id == ChangeRequest.project_id)
        .outerjoin(Person, Person.id == ChangeRequest.decided_by_id)
        .order_by(ChangeRequest.project_id, ChangeRequest.number)
    )


def _changes_of(rows: Rows, zones: Mapping[int, str]) -> Grouped[ChangeFacts]:
    return _grouped(
        rows,
        lambda r: ChangeFacts(
            number=r[1],
            title=r[2],
            price=Decimal(r[3]).quantize(Decimal("0.01")),
            days=r[4],
            status=r[5],
            decided_on=local_date(r[6], zones[r[0]]) if r[6] else None,
            decided_by=r[7],
            on_behalf=bool(r[8]),
            reason=r[9],
        ),
    )


@lru_cache(maxsize=16)
def _decisions_query(dates: Any) -> Any:
    return (
        select(Decision.project_id, Decision.title, Person.display_name, Decision.decided_at)
        .join(dates, dates.c.project_id == Decision.project_id)
        .join(Person, Person.id == Decision.decided_by_id)
        .where(Decision.decided_at >= dates.c.week_start)
        .order_by(Decision.project_id, Decision.decided_at, Decision.number)
    )


def _decisions_of(rows: Rows, zones: Mapping[int, str]) -> Grouped[DecisionFacts]:
    """This week's decisions."""
    return _grouped(rows, lambda r: DecisionFacts(r[1], r[2], local_date(r[3], zones[r[0]])))


@lru_cache(maxsize=16)
def _pulses_query(dates: Any) -> Any:
    return pulses_query().join(dates, dates.c.project_id == Pulse.project_id)


def calendar_of(project: Project, today: date) -> WorkCalendar:
    return WorkCalendar.of(
        project.working_days, project.country, range(today.year - 1, today.year + 2)
    )


async def load_snapshots(
    session: AsyncSession,
    projects: Sequence[Project],
    today_by_project: Mapping[int, date],
    audience: Audience = "internal",
    *,
    for_status: bool = False,
) -> dict[int, ProjectSnapshot]:
    """Everything status and reports show, for each project as of its own `today` (its
    local date), in the same number of statements for one project or a thousand. A client
    load never reads money, internal risks, internal tasks or decisions, so they cannot
    end up in a client message by mistake. The budget is its totals, without the spend by
    category or the time by person. `for_status` reads only what a status shows: no
    decisions, and of the open risks only the high ones."""
    if not projects:
        return {}
    client = audience == "client"
    dates = as_of(projects, today_by_project)
    zones = {p.id: p.timezone for p in projects}
    table = dates.table
    queries = {
        "milestones": _milestones_query(table),
        "totals": _totals_query(table, not client),
        "risks": _risks_query(table, client, for_status),
        "requests": _requests_query(table),
        "changes": _changes_query(table),
    }
    if not client:
        queries["attention"] = _attention_query(table)
        # The pulse is internal: a client load never reads it.
        queries["pulses"] = _pulses_query(table)
        if not for_status:
            queries["decisions"] = _decisions_query(table)
    found_rows = await column_row_sets(session, list(queries.values()), dates.params)
    rows: dict[str, Rows] = dict(zip(queries, found_rows, strict=True))
    milestones = _milestones_of(rows["milestones"])
    totals = _totals_of(rows["totals"], money=not client)
    attention = _attention_of(rows.get("attention", []))
    risks = _risks_of(rows["risks"])
    requests = _requests_of(rows["requests"], zones)
    changes = _changes_of(rows["changes"], zones)
    decisions = _decisions_of(rows.get("decisions", []), zones)
    pulses = pulse_trends_of(rows.get("pulses", []))
    snapshots = {}
    for project in projects:
        pid, today = project.id, today_by_project[project.id]
        found = totals.get(pid)
        money = found.money if found is not None else None
        snapshots[pid] = ProjectSnapshot(
            name=project.name,
            client_name=project.client_name,
            currency=project.currency,
            today=today,
            due_date=project.due_date,
            calendar=calendar_of(project, today),
            milestones=milestones.get(pid, ()),
            tasks=found.tasks if found is not None else TaskTotals(),
            attention=attention.get(pid, ()),
            risks=risks.get(pid, ()),
            requests=requests.get(pid, ()),
            changes=changes.get(pid, ()),
            decisions=decisions.get(pid, ()),
            budget=None if money is None else summarise(figures_of_totals(project, *money), today),
            pulse=pulses.get(pid, ()),
        )
    return snapshots


async def load_snapshot(
    session: AsyncSession,
    project: Project,
    today: date,
    audience: Audience,
    *,
    for_status: bool = False,
) -> ProjectSnapshot:
    """One project's snapshot (see `load_snapshots`)."""
    found = await load_snapshots(
        session, [project], {project.id: today}, audience, for_status=for_status
    )
    return found[project.id]
