"""Reading a project's money and time from the running totals the database keeps
(storage/ledger_totals.py: per project, day, person and category): a row per total,
whatever the number of expenses and time entries, returned as plain data for
`bot.domain.budget`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Numeric,
    String,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from bot.domain.budget import BudgetSummary, LedgerFigures, summarise
from storage.models import (
    LedgerCategory,
    LedgerDay,
    LedgerPerson,
    LedgerTotal,
    Person,
    Project,
)
from storage.reads import column_rows

HUNDRED = Decimal(100)
DailySpend = list[tuple[date, Decimal]]  # a project's spend per day, in no set order


class _sum_cents(FunctionElement[Decimal]):  # noqa: N801 (an SQL function, named like one)
    """The sum of a money or hours column (two decimals) in whole cents.

    SQLite keeps NUMERIC as floating point, and adding thousands of floats could drift:
    there each value is rounded to whole cents first, and whole numbers add up exactly.
    PostgreSQL's NUMERIC is exact already, and rounding each of 5,000 rows costs more
    than the sum itself, so there the sum is taken as it is."""

    type = Numeric()
    inherit_cache = True


@compiles(_sum_cents)
def _sum_rounded(element: _sum_cents, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return str(compiler.process(func.sum(func.round(column * 100)), **kw))


@compiles(_sum_cents, "postgresql")
def _sum_exact(element: _sum_cents, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return str(compiler.process(func.sum(column) * 100, **kw))


def _from_cents(value: object) -> Decimal:
    if value is None:
        return Decimal("0.00")
    if isinstance(value, int):  # a running total: exact, and a third of the cost
        return Decimal(value).scaleb(-2)
    return (Decimal(str(value)) / HUNDRED).quantize(Decimal("0.01"))


def ledger_sums(project_id: Any) -> tuple[Any, Any]:
    """A project's expenses and the cost of its logged time, in whole cents, as scalar
    subqueries correlated with the enclosing query's `project_id` column: the running
    totals the database keeps (`LedgerTotal`), one row by its key, however many expenses
    and time entries there are. NULL for a project nothing was spent on yet."""

    def total(column: Any) -> Any:
        return select(column).where(LedgerTotal.project_id == project_id).scalar_subquery()

    return total(LedgerTotal.expense_cents), total(LedgerTotal.time_cost_cents)


def figures_of_totals(project: Project, expenses: object, time_cost: object) -> LedgerFigures:
    """A project's ledger from the sums of `ledger_sums`."""
    return LedgerFigures(
        currency=project.currency,
        budget=project.budget,
        start_date=project.start_date,
        due_date=project.due_date,
        totals=(_from_cents(expenses), _from_cents(time_cost)),
    )


def _day_spend() -> Any:
    """A day's spend in cents: its expenses and the cost of the time logged on it."""
    return LedgerDay.expense_cents + LedgerDay.time_cost_cents


@lru_cache(maxsize=1)
def _ledger_and_days_query() -> Any:
    """One project's ledger and its spend per day, as rows of one statement: (kind, name,
    day, cents, hours in hundredths), kind being `category`, `person` or `day`. Read from
    the running totals the database keeps (storage/ledger_totals.py): a row per category,
    person and day, however many expenses and time entries there are."""
    project_id = bindparam("project_id", type_=Integer)
    no_name, no_day, no_hours = cast(null(), String), cast(null(), Date), cast(null(), BigInteger)
    return union_all(
        select(
            literal("category"), LedgerCategory.category, no_day, LedgerCategory.cents, no_hours
        ).where(LedgerCategory.project_id == project_id, LedgerCategory.cents != 0),
        select(
            literal("person"),
            Person.display_name,
            no_day,
            LedgerPerson.cost_cents,
            LedgerPerson.hours_cents,
        )
        .join(Person, Person.id == LedgerPerson.person_id)
        .where(
            LedgerPerson.project_id == project_id,
            or_(LedgerPerson.hours_cents != 0, LedgerPerson.cost_cents != 0),
        ),
        select(literal("day"), no_name, LedgerDay.day, _day_spend(), no_hours).where(
            LedgerDay.project_id == project_id, _day_spend() != 0
        ),
    )


async def load_ledger_and_days(
    session: AsyncSession, project: Project
) -> tuple[LedgerFigures, DailySpend]:
    """One project's ledger (spend by category, time by person) and its spend per day
    (expenses and logged time together), in one statement: what the `budget` command
    shows and charts."""
    rows = await column_rows(session, _ledger_and_days_query(), {"project_id": project.id})
    categories: list[tuple[str, Decimal]] = []
    people: list[tuple[str, Decimal, Decimal]] = []
    daily: DailySpend = []
    for kind, name, day, total, hours in rows:
        if kind == "category":
            categories.append((name, _from_cents(total)))
        elif kind == "person":
            people.append((name, _from_cents(hours), _from_cents(total)))
        else:
            daily.append((day, _from_cents(total)))
    figures = LedgerFigures(
        currency=project.currency,
        budget=project.budget,
        start_date=project.start_date,
        due_date=project.due_date,
        by_category=tuple(categories),
        by_person=tuple(people),
    )
    return figures, daily


async def load_daily_spends(
    session: AsyncSession, project_ids: Sequence[int]
) -> dict[int, DailySpend]:
    """Expenses and the cost of logged time per project and day (the running totals), in
    one statement for any number of projects."""
    found: dict[int, DailySpend] = defaultdict(list)
    if project_ids:
        rows = await session.execute(
            select(LedgerDay.project_id, LedgerDay.day, _day_spend()).where(
                LedgerDay.project_id.in_(project_ids), _day_spend() != 0
            )
        )
        for project_id, day, total in rows:
            found[project_id].append((day, _from_cents(total)))
    return dict(found)


async def load_budgets(
    session: AsyncSession, projects: Sequence[Project], today: Mapping[int, date]
) -> dict[int, BudgetSummary]:
    """Budget summaries of several projects (by project id) as of each one's own local
    date: their totals, without the spend by category or the time by person, in one
    statement of the running totals the database keeps, however much was logged."""
    ids = [p.id for p in projects]
    found: dict[int, tuple[object, object]] = {}
    if ids:
        rows = await session.execute(
            select(
                LedgerTotal.project_id, LedgerTotal.expense_cents, LedgerTotal.time_cost_cents
            ).where(LedgerTotal.project_id.in_(ids))
        )
        found = {project_id: (spent, time) for project_id, spent, time in rows}
    return {
        p.id: summarise(figures_of_totals(p, *found.get(p.id, (None, None))), today[p.id])
        for p in projects
    }


async def load_budget(session: AsyncSession, project: Project, today: date) -> BudgetSummary:
    """One project's budget summary as of `today` (the project's local date), with the
    spend by category and the time by person."""
    figures, _ = await load_ledger_and_days(session, project)
    return summarise(figures, today)
