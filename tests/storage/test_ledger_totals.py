"""The running totals of each project's expenses and time cost (`ledger_totals`) are kept
by the database: whatever inserts, updates or deletes the rows (an ORM flush, a bulk
insert, a move to another project, a project's deletion in any table order), the totals
equal the sums of the rows, on both backends; and `liaison migrate` fills them for rows
written before they existed."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, migrate_async, session_factory
from storage.models import (
    Expense,
    LedgerTotal,
    Person,
    Project,
    Tenant,
    TimeEntry,
)
from tests.conftest import PG_URL, _pg_execute

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
AMOUNTS = ("0.01", "0.10", "0.30", "12.34", "95.00", "1200.00", "47.50", "0.05")


async def _people_and_projects(session: AsyncSession, projects: int) -> tuple[int, list[int]]:
    tenant = Tenant(platform="slack", external_id="T1", name="Acme", created_at=NOW)
    session.add(tenant)
    await session.flush()
    person = Person(
        platform="slack", external_id="U1", home_tenant="T1", display_name="Ann", created_at=NOW
    )
    made = [
        Project(
            tenant_id=tenant.id,
            name=f"P{n}",
            client_name="C",
            start_date=date(2026, 9, 1),
            created_at=NOW,
        )
        for n in range(projects)
    ]
    session.add_all([person, *made])
    await session.flush()
    return person.id, [p.id for p in made]


def _entry(project_id: int, person_id: int, cost: str) -> dict:
    return {
        "project_id": project_id,
        "person_id": person_id,
        "hours": Decimal("1"),
        "cost": Decimal(cost),
        "logged_on": date(2026, 11, 30),
        "created_at": NOW,
    }


def _expense(project_id: int, amount: str) -> dict:
    return {
        "project_id": project_id,
        "amount": Decimal(amount),
        "description": "licence",
        "spent_on": date(2026, 11, 30),
        "created_at": NOW,
    }


async def _totals_and_sums(session: AsyncSession) -> tuple[dict, dict]:
    """What the totals say and what the rows add up to, per project, in cents."""
    kept = {
        pid: (int(spent), int(time))
        for pid, spent, time in await session.execute(
            select(LedgerTotal.project_id, LedgerTotal.expense_cents, LedgerTotal.time_cost_cents)
        )
        if (spent, time) != (0, 0)
    }
    sums: dict[int, list[int]] = {}
    for model, column, index in ((Expense, Expense.amount, 0), (TimeEntry, TimeEntry.cost, 1)):
        rows = await session.execute(
            select(model.project_id, func.sum(column)).group_by(model.project_id)
        )
        for pid, total in rows:
            cents = int((Decimal(str(total)) * 100).quantize(Decimal(1)))
            sums.setdefault(pid, [0, 0])[index] = cents
    return kept, {pid: tuple(v) for pid, v in sums.items() if tuple(v) != (0, 0)}


async def test_the_totals_follow_every_insert_update_and_delete(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rng = random.Random(19)
    async with sessions() as session, session.begin():
        person_id, projects = await _people_and_projects(session, 3)
    for _ in range(6):
        async with sessions() as session, session.begin():
            # One at a time through the ORM, as `log` and `spend` write them ...
            session.add_all(
                [TimeEntry(**_entry(rng.choice(projects), person_id, rng.choice(AMOUNTS)))]
                + [Expense(**_expense(rng.choice(projects), rng.choice(AMOUNTS)))]
            )
            await session.flush()
            # ... and many in one statement, as an import or the benchmark's seed does.
            await session.execute(
                insert(TimeEntry),
                [_entry(rng.choice(projects), person_id, rng.choice(AMOUNTS)) for _ in range(40)],
            )
            ids = list((await session.scalars(select(TimeEntry.id))).all())
            await session.execute(
                update(TimeEntry)
                .where(TimeEntry.id.in_(rng.sample(ids, 5)))
                .values(cost=Decimal(rng.choice(AMOUNTS)))
            )
            await session.execute(
                update(TimeEntry)
                .where(TimeEntry.id.in_(rng.sample(ids, 5)))
                .values(project_id=rng.choice(projects))
            )
            await session.execute(delete(TimeEntry).where(TimeEntry.id.in_(rng.sample(ids, 7))))
            spent = list((await session.scalars(select(Expense.id))).all())
            await session.execute(delete(Expense).where(Expense.id == rng.choice(spent)))
        async with sessions() as session:
            kept, sums = await _totals_and_sums(session)
        assert kept == sums
    assert len(sums) == 3 and all(time > 0 for _, time in sums.values())


async def test_a_project_is_deleted_with_its_totals_whichever_rows_go_first(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A deleted row takes its cents away but never brings back a total deleted first (the
    project's tables are deleted children first, in no set order among them)."""
    async with sessions() as session, session.begin():
        person_id, (first, second) = await _people_and_projects(session, 2)
        await session.execute(
            insert(TimeEntry), [_entry(p, person_id, "95.00") for p in (first, second)]
        )
        await session.execute(insert(Expense), [_expense(p, "10.00") for p in (first, second)])
    async with sessions() as session, session.begin():
        await session.execute(delete(LedgerTotal).where(LedgerTotal.project_id == first))
        await session.execute(delete(TimeEntry).where(TimeEntry.project_id == first))
        await session.execute(delete(Expense).where(Expense.project_id == first))
        await session.execute(delete(Project).where(Project.id == first))
        await session.execute(delete(TimeEntry).where(TimeEntry.project_id == second))
    async with sessions() as session:
        totals = (
            await session.execute(
                select(
                    LedgerTotal.project_id, LedgerTotal.expense_cents, LedgerTotal.time_cost_cents
                )
            )
        ).all()
    assert [tuple(t) for t in totals] == [(second, 1000, 0)]


async def _fresh_database(backend: str, tmp_path: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", None
    name = f"liaison_totals_{uuid.uuid4().hex[:8]}"
    await _pg_execute(PG_URL, f'CREATE DATABASE "{name}"')
    return f"{PG_URL.rsplit('/', 1)[0]}/{name}", name


async def test_migrating_fills_the_totals_of_rows_written_before_them(
    db_url: str, tmp_path: Path
) -> None:
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    url, name = await _fresh_database(backend, tmp_path)
    try:
        await migrate_async(url, "0001")
        engine = create_engine(url)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            person_id, (first, second, _) = await _people_and_projects(session, 3)
            await session.execute(insert(TimeEntry), [_entry(first, person_id, c) for c in AMOUNTS])
            await session.execute(insert(Expense), [_expense(second, "0.10")] * 3)
        await engine.dispose()
        await migrate_async(url)
        engine = create_engine(url)
        async with session_factory(engine)() as session:
            kept, sums = await _totals_and_sums(session)
            rows = await session.scalar(select(func.count()).select_from(LedgerTotal))
        await engine.dispose()
        assert kept == sums == {first: (0, 135530), second: (30, 0)}
        assert rows == 3  # every project has its row, the third one at zero
    finally:
        if name is not None:
            await _pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
