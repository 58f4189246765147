"""The running totals of each project's expenses and time (`ledger_totals`, and per day,
person and category `ledger_days`, `ledger_people`, `ledger_categories`) are kept by the
database: whatever inserts, updates or deletes the rows (an ORM flush, a bulk insert, a
move to another project, day, person or category, a project's deletion in any table
order), the totals equal the sums of the rows, on both backends; and `liaison migrate`
fills them for rows written before they existed."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import create_engine, migrate_async, session_factory
from storage.models import (
    Expense,
    LedgerCategory,
    LedgerDay,
    LedgerPerson,
    LedgerTotal,
    Person,
    Project,
    Tenant,
    TimeEntry,
)
from tests.conftest import PG_URL, _pg_execute

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
AMOUNTS = ("0.01", "0.10", "0.30", "12.34", "95.00", "1200.00", "47.50", "0.05")


DAYS = (date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30))
CATEGORIES = ("software", "travel")
TOTALS = (LedgerTotal, LedgerDay, LedgerPerson, LedgerCategory)


async def _people_and_projects(session: AsyncSession, projects: int) -> tuple[list[int], list[int]]:
    tenant = Tenant(platform="slack", external_id="T1", name="Acme", created_at=NOW)
    session.add(tenant)
    await session.flush()
    people = [
        Person(
            platform="slack",
            external_id=f"U{n}",
            home_tenant="T1",
            display_name=name,
            created_at=NOW,
        )
        for n, name in enumerate(("Ann", "Bob"))
    ]
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
    session.add_all([*people, *made])
    await session.flush()
    return [p.id for p in people], [p.id for p in made]


def _entry(
    project_id: int, person_id: int, cost: str, hours: str = "1", day: date = DAYS[-1]
) -> dict:
    return {
        "project_id": project_id,
        "person_id": person_id,
        "hours": Decimal(hours),
        "cost": Decimal(cost),
        "logged_on": day,
        "created_at": NOW,
    }


def _expense(project_id: int, amount: str, category: str = "general", day: date = DAYS[-1]) -> dict:
    return {
        "project_id": project_id,
        "amount": Decimal(amount),
        "description": "licence",
        "category": category,
        "spent_on": day,
        "created_at": NOW,
    }


def _cents(value: object) -> int:
    return int((Decimal(str(value)) * 100).quantize(Decimal(1)))


async def _kept(session: AsyncSession) -> dict[str, dict[tuple, tuple[int, ...]]]:
    """What each table of totals says, by its key, leaving rows at zero out."""
    kept: dict[str, dict[tuple, tuple[int, ...]]] = {}
    for model in TOTALS:
        columns = list(model.__table__.c)
        keys = [c for c in columns if c.primary_key]
        sums = [c for c in columns if not c.primary_key]
        rows = (await session.execute(select(*keys, *sums))).all()
        kept[model.__tablename__] = {
            tuple(row[: len(keys)]): tuple(int(v) for v in row[len(keys) :])
            for row in rows
            if any(row[len(keys) :])
        }
    return kept


async def _sums(session: AsyncSession) -> dict[str, dict[tuple, tuple[int, ...]]]:
    """What the expenses and time entries add up to, summed here, keyed like `_kept`."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    days: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    people: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    categories: dict[tuple, list[int]] = defaultdict(lambda: [0])
    expenses = await session.execute(
        select(Expense.project_id, Expense.spent_on, Expense.category, Expense.amount)
    )
    for pid, day, category, amount in expenses:
        totals[(pid,)][0] += _cents(amount)
        days[(pid, day)][0] += _cents(amount)
        categories[(pid, category)][0] += _cents(amount)
    entries = await session.execute(
        select(
            TimeEntry.project_id,
            TimeEntry.logged_on,
            TimeEntry.person_id,
            TimeEntry.hours,
            TimeEntry.cost,
        )
    )
    for pid, day, person, hours, cost in entries:
        totals[(pid,)][1] += _cents(cost)
        days[(pid, day)][1] += _cents(cost)
        people[(pid, person)][0] += _cents(hours)
        people[(pid, person)][1] += _cents(cost)

    def nonzero(found: dict[tuple, list[int]]) -> dict[tuple, tuple[int, ...]]:
        return {key: tuple(values) for key, values in found.items() if any(values)}

    return {
        "ledger_totals": nonzero(totals),
        "ledger_days": nonzero(days),
        "ledger_people": nonzero(people),
        "ledger_categories": nonzero(categories),
    }


async def test_the_totals_follow_every_insert_update_and_delete(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rng = random.Random(19)
    async with sessions() as session, session.begin():
        people, projects = await _people_and_projects(session, 3)

    def entry() -> dict:
        return _entry(
            rng.choice(projects),
            rng.choice(people),
            rng.choice(AMOUNTS),
            rng.choice(("0.25", "1", "7.5")),
            rng.choice(DAYS),
        )

    def expense() -> dict:
        return _expense(
            rng.choice(projects), rng.choice(AMOUNTS), rng.choice(CATEGORIES), rng.choice(DAYS)
        )

    for _ in range(6):
        async with sessions() as session, session.begin():
            # One at a time through the ORM, as `log` and `spend` write them ...
            session.add_all([TimeEntry(**entry()), Expense(**expense())])
            await session.flush()
            # ... and many in one statement, as an import or the benchmark's seed does.
            await session.execute(insert(TimeEntry), [entry() for _ in range(40)])
            await session.execute(insert(Expense), [expense() for _ in range(6)])
            ids = list((await session.scalars(select(TimeEntry.id))).all())
            for changed in (
                {"cost": Decimal(rng.choice(AMOUNTS))},
                {"hours": Decimal("2.5")},
                {"project_id": rng.choice(projects)},
                {"logged_on": rng.choice(DAYS)},
                {"person_id": rng.choice(people)},
            ):
                await session.execute(
                    update(TimeEntry).where(TimeEntry.id.in_(rng.sample(ids, 5))).values(changed)
                )
            await session.execute(delete(TimeEntry).where(TimeEntry.id.in_(rng.sample(ids, 7))))
            spent = list((await session.scalars(select(Expense.id))).all())
            for changed in (
                {"amount": Decimal(rng.choice(AMOUNTS))},
                {"category": rng.choice(CATEGORIES)},
                {"spent_on": rng.choice(DAYS)},
                {"project_id": rng.choice(projects)},
            ):
                await session.execute(
                    update(Expense).where(Expense.id.in_(rng.sample(spent, 2))).values(changed)
                )
            await session.execute(delete(Expense).where(Expense.id == rng.choice(spent)))
        async with sessions() as session:
            kept, sums = await _kept(session), await _sums(session)
        assert kept == sums
    # Every project, day, person and category has had something to keep.
    assert len(sums["ledger_totals"]) == 3 and len(sums["ledger_days"]) == 9
    assert len(sums["ledger_people"]) == 6 and len(sums["ledger_categories"]) == 6


async def test_a_project_is_deleted_with_its_totals_whichever_rows_go_first(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A deleted row takes its cents away but never brings back a total deleted first (the
    project's tables are deleted children first, in no set order among them)."""
    async with sessions() as session, session.begin():
        (person_id, _), (first, second) = await _people_and_projects(session, 2)
        await session.execute(
            insert(TimeEntry), [_entry(p, person_id, "95.00") for p in (first, second)]
        )
        await session.execute(insert(Expense), [_expense(p, "10.00") for p in (first, second)])
    async with sessions() as session, session.begin():
        for model in TOTALS:
            await session.execute(delete(model).where(model.project_id == first))
        await session.execute(delete(TimeEntry).where(TimeEntry.project_id == first))
        await session.execute(delete(Expense).where(Expense.project_id == first))
        await session.execute(delete(Project).where(Project.id == first))
        await session.execute(delete(TimeEntry).where(TimeEntry.project_id == second))
    async with sessions() as session:
        kept = await _kept(session)
    assert kept == {
        "ledger_totals": {(second,): (1000, 0)},
        "ledger_days": {(second, DAYS[-1]): (1000, 0)},
        "ledger_people": {},  # the second project's only entry is deleted: at zero
        "ledger_categories": {(second, "general"): (1000,)},
    }


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
            (ann, bob), (first, second, _) = await _people_and_projects(session, 3)
            await session.execute(
                insert(TimeEntry),
                [_entry(first, ann, c, day=DAYS[n % 2]) for n, c in enumerate(AMOUNTS)]
                + [_entry(first, bob, "0.30", "0.5")],
            )
            await session.execute(
                insert(Expense),
                [_expense(second, "0.10")] * 3 + [_expense(second, "12.34", "travel", DAYS[0])],
            )
        await engine.dispose()
        await migrate_async(url)
        engine = create_engine(url)
        async with session_factory(engine)() as session:
            kept, sums = await _kept(session), await _sums(session)
            rows = await session.scalar(select(func.count()).select_from(LedgerTotal))
        await engine.dispose()
        assert kept == sums
        assert kept["ledger_totals"] == {(first,): (0, 135560), (second,): (1264, 0)}
        assert kept["ledger_people"] == {(first, ann): (800, 135530), (first, bob): (50, 30)}
        assert kept["ledger_days"] == {
            (first, DAYS[0]): (0, 14281),  # 0.01 + 0.30 + 95.00 + 47.50
            (first, DAYS[1]): (0, 121249),  # 0.10 + 12.34 + 1200.00 + 0.05
            (first, DAYS[2]): (0, 30),
            (second, DAYS[0]): (1234, 0),
            (second, DAYS[2]): (30, 0),
        }
        assert kept["ledger_categories"] == {
            (second, "general"): (30,),
            (second, "travel"): (1234,),
        }
        assert rows == 2  # a project with nothing spent has no row: zero
    finally:
        if name is not None:
            await _pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
