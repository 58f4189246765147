"""Reading a project's money and time: a fixed number of aggregate statements, whatever
the number of expenses and time entries, returned as plain data for `bot.domain.budget`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Numeric,
    String,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from bot.domain.budget import BudgetSummary, LedgerFigures, summarise
from storage.models import Expense, LedgerTotal, Person, Project, TimeEntry
from storage.reads import column_rows

HUNDRED = Decimal(100)


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


async def load_figures(
    session: AsyncSession, projects: Sequence[Project]
) -> dict[int, LedgerFigures]:
    """The ledger of each project, in two statements for any number of projects."""
    ids = [p.id for p in projects]
    categories: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    people: dict[int, list[tuple[str, Decimal, Decimal]]] = defaultdict(list)
    if ids:
        spend_rows = await session.execute(
            select(Expense.project_id, Expense.category, _sum_cents(Expense.amount))
            .where(Expense.project_id.in_(ids))
            .group_by(Expense.project_id, Expense.category)
        )
        for project_id, category, total in spend_rows:
            categories[project_id].append((category, _from_cents(total)))
        # Summed per person first and named after: the join then touches one row per
        # person, not one per entry, and the sums read only the covering index
        # ix_time_entries_totals.
        per_person = (
            select(
                TimeEntry.project_id,
                TimeEntry.person_id,
                _sum_cents(TimeEntry.hours).label("hours"),
                _sum_cents(TimeEntry.cost).label("cost"),
            )
            .where(TimeEntry.project_id.in_(ids))
            .group_by(TimeEntry.project_id, TimeEntry.person_id)
            .subquery()
        )
        time_rows = await session.execute(
            select(
                per_person.c.project_id,
                Person.display_name,
                per_person.c.hours,
                per_person.c.cost,
            )
            .join(Person, Person.id == per_person.c.person_id)
            .order_by(per_person.c.project_id, per_person.c.person_id)
        )
        for project_id, name, hours, cost in time_rows:
            people[project_id].append((name, _from_cents(hours), _from_cents(cost)))
    return {
        p.id: LedgerFigures(
            currency=p.currency,
            budget=p.budget,
            start_date=p.start_date,
            due_date=p.due_date,
            by_category=tuple(categories[p.id]),
            by_person=tuple(people[p.id]),
        )
        for p in projects
    }


@lru_cache(maxsize=1)
def _ledger_and_days_query() -> Any:
    """One project's ledger and its spend per day, as rows of one statement: (kind, name,
    day, cents, hours in cents), kind being `category`, `person`, `expense day` or
    `time day`."""
    project_id = bindparam("project_id", type_=Integer)
    no_name, no_day, no_hours = cast(null(), String), cast(null(), Date), cast(null(), Numeric)
    per_person = (
        select(
            TimeEntry.person_id,
            _sum_cents(TimeEntry.hours).label("hours"),
            _sum_cents(TimeEntry.cost).label("cost"),
        )
        .where(TimeEntry.project_id == project_id)
        .group_by(TimeEntry.person_id)
        .subquery()
    )
    spent = _sum_cents(Expense.amount)
    return union_all(
        select(literal("category"), Expense.category, no_day, spent, no_hours)
        .where(Expense.project_id == project_id)
        .group_by(Expense.category),
        select(literal("expense day"), no_name, Expense.spent_on, spent, no_hours)
        .where(Expense.project_id == project_id)
        .group_by(Expense.spent_on),
        select(
            literal("person"), Person.display_name, no_day, per_person.c.cost, per_person.c.hours
        ).join(Person, Person.id == per_person.c.person_id),
        select(
            literal("time day"), no_name, TimeEntry.logged_on, _sum_cents(TimeEntry.cost), no_hours
        )
        .where(TimeEntry.project_id == project_id)
        .group_by(TimeEntry.logged_on),
    )


async def load_ledger_and_days(
    session: AsyncSession, project: Project
) -> tuple[LedgerFigures, list[tuple[date, Decimal]]]:
    """One project's ledger (spend by category, time by person) and its spend per day
    (expenses and logged time, a day's entry for each), in one statement: what the
    `budget` command shows and charts."""
    rows = await column_rows(session, _ledger_and_days_query(), {"project_id": project.id})
    categories: list[tuple[str, Decimal]] = []
    people: list[tuple[str, Decimal, Decimal]] = []
    daily: list[tuple[date, Decimal]] = []
    for kind, name, day, total, hours in rows:
        if kind == "category":
            categories.append((name, _from_cents(total)))
        elif kind == "person":
            people.append((name, _from_cents(hours), _from_cents(total)))
        else:
            daily.append((day, Decimal(str(total or 0)) / HUNDRED))
    figures = LedgerFigures(
        currency=project.currency,
        budget=project.budget,
        start_date=project.start_date,
        due_date=project.due_date,
        by_category=tuple(categories),
        by_person=tuple(people),
    )
    return figures, daily


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
    return summarise((await load_figures(session, [project]))[project.id], today)
