"""Reading a project's money and time: a fixed number of aggregate statements, whatever
the number of expenses and time entries, returned as plain data for `bot.domain.budget`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.budget import BudgetSummary, LedgerFigures, summarise
from storage.models import Expense, Person, Project, TimeEntry

HUNDRED = Decimal(100)


def _sum_cents(column: Any) -> Any:
    # Summed as whole cents: SQLite keeps NUMERIC as floating point, and adding thousands
    # of floats could drift; whole numbers add up exactly on both backends.
    return func.sum(func.round(column * 100))


def _from_cents(value: object) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return (Decimal(str(value)) / HUNDRED).quantize(Decimal("0.01"))


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


async def load_budgets(
    session: AsyncSession, projects: Sequence[Project], today: date | Mapping[int, date]
) -> dict[int, BudgetSummary]:
    """Budget summaries of several projects (by project id), in two statements.

    `today` is one date, or each project's own local date by project id."""
    figures = await load_figures(session, projects)
    return {
        project_id: summarise(f, today if isinstance(today, date) else today[project_id])
        for project_id, f in figures.items()
    }


async def load_budget(session: AsyncSession, project: Project, today: date) -> BudgetSummary:
    """One project's budget summary as of `today` (the project's local date)."""
    return (await load_budgets(session, [project], today))[project.id]
