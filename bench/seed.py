"""A realistic project, fast: the project is started by a real signed slash command (so
it belongs to the Slack user and channel the load uses), then 500 tasks, 100 risks and
5,000 time entries are bulk-inserted through our models, and a few more real commands run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.databases import analyze
from storage.db import create_engine, session_factory
from storage.models import (
    Acquaintance,
    Expense,
    Membership,
    Milestone,
    Person,
    Project,
    Risk,
    Task,
    TimeEntry,
)

PROJECT = "Bench Site"


@dataclass(frozen=True)
class Size:
    tasks: int = 500
    risks: int = 100
    time_entries: int = 5000
    members: int = 10
    milestones: int = 10


async def bulk_seed(
    database_url: str,
    size: Size = Size(),
    *,
    seed: int = 7,
    project_name: str = PROJECT,
    member_prefix: str = "UMEMBER",
) -> dict[str, int]:
    """Fill the project started by the PM's `project new` command; returns row counts. Its
    members are Slack users `member_prefix` + 001, 002, ..."""
    rng = random.Random(seed)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    try:
        async with sessions() as session, session.begin():
            project = await session.scalar(select(Project).where(Project.name == project_name))
            assert project is not None, "run `project new` through Slack first"
            pm = await session.scalar(
                select(Person)
                .join(Membership, Membership.person_id == Person.id)
                .where(Membership.project_id == project.id, Membership.role == "pm")
            )
            assert pm is not None
            people = await _members(session, project, pm, size, now, member_prefix)
            milestones = await _milestones(session, project, size, today, now)
            tasks = await _tasks(session, project, people, milestones, size, today, now, rng)
            await _risks(session, project, people, size, today, now, rng)
            await _time(session, project, people, tasks, size, today, now, rng)
            await _expenses(session, project, pm, today, now)
            counts = {
                "tasks": await _count(session, Task, project.id),
                "risks": await _count(session, Risk, project.id),
                "time entries": await _count(session, TimeEntry, project.id),
            }
    finally:
        await engine.dispose()
    await analyze(database_url)
    return counts


async def _count(session: AsyncSession, model: Any, project_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(model).where(model.project_id == project_id)
        )
        or 0
    )


async def _members(
    session: AsyncSession, project: Project, pm: Person, size: Size, now: datetime, prefix: str
) -> list[int]:
    rows = [
        {
            "platform": pm.platform,
            "external_id": f"{prefix}{n:03d}",
            "home_tenant": pm.home_tenant,
            "display_name": f"Member {n}",
            "timezone": "Europe/Berlin",
            "created_at": now,
        }
        for n in range(1, size.members)
    ]
    ids = list((await session.scalars(insert(Person).returning(Person.id), rows)).all())
    # Met in the project's tenant as its own, like people the PM adds with `team add`.
    await session.execute(
        insert(Acquaintance),
        [
            {"person_id": i, "tenant_id": project.tenant_id, "external": False, "met_at": now}
            for i in ids
        ],
    )
    await session.execute(
        insert(Membership),
        [
            {
                "project_id": project.id,
                "person_id": person_id,
                "role": "member",
                "hourly_rate": Decimal("95.00"),
                "created_at": now,
            }
            for person_id in ids
        ],
    )
    return [pm.id, *ids]


async def _milestones(
    session: AsyncSession, project: Project, size: Size, today: date, now: datetime
) -> list[int]:
    rows = [
        {
            "project_id": project.id,
            "number": n,
            "title": f"Milestone {n}",
            "due_date": today + timedelta(days=14 * n),
            "client_signoff": n % 3 == 0,
            "created_at": now,
        }
        for n in range(1, size.milestones + 1)
    ]
    return list((await session.scalars(insert(Milestone).returning(Milestone.id), rows)).all())


async def _tasks(
    session: AsyncSession,
    project: Project,
    people: list[int],
    milestones: list[int],
    size: Size,
    today: date,
    now: datetime,
    rng: random.Random,
) -> list[int]:
    start = int(
        await session.scalar(
            select(func.coalesce(func.max(Task.number), 0)).where(Task.project_id == project.id)
        )
        or 0
    )
    rows = []
    for n in range(start + 1, start + size.tasks + 1):
        status = rng.choices(("open", "done", "blocked"), (6, 3, 1))[0]
        rows.append(
            {
                "project_id": project.id,
                "number": n,
                "title": f"Seeded task {n}: {rng.choice(('design', 'build', 'test', 'ship'))}",
                "owner_id": rng.choice(people),
                "milestone_id": rng.choice(milestones),
                "due_date": today + timedelta(days=rng.randint(-20, 90)),
                "status": status,
                "estimate_hours": Decimal(rng.randint(1, 16)),
                "blocked_reason": "waiting on the client" if status == "blocked" else None,
                "created_by_id": people[0],
                "created_at": now,
                "done_at": now if status == "done" else None,
            }
        )
    return list((await session.scalars(insert(Task).returning(Task.id), rows)).all())


async def _risks(
    session: AsyncSession,
    project: Project,
    people: list[int],
    size: Size,
    today: date,
    now: datetime,
    rng: random.Random,
) -> None:
    start = int(
        await session.scalar(
            select(func.coalesce(func.max(Risk.number), 0)).where(Risk.project_id == project.id)
        )
        or 0
    )
    await session.execute(
        insert(Risk),
        [
            {
                "project_id": project.id,
                "number": n,
                "title": f"Seeded risk {n}",
                "likelihood": rng.randint(1, 3),
                "impact": rng.randint(1, 3),
                "mitigation": "watch it",
                "owner_id": rng.choice(people),
                "client_visible": n % 4 == 0,
                "status": "open" if n % 5 else "closed",
                "review_on": today + timedelta(days=rng.randint(-5, 30)),
                "created_at": now,
            }
            for n in range(start + 1, start + size.risks + 1)
        ],
    )


async def _time(
    session: AsyncSession,
    project: Project,
    people: list[int],
    tasks: list[int],
    size: Size,
    today: date,
    now: datetime,
    rng: random.Random,
) -> None:
    rows = []
    for _ in range(size.time_entries):
        hours = Decimal(rng.choice(("0.5", "1", "1.5", "2", "4", "8")))
        rows.append(
            {
                "project_id": project.id,
                "person_id": rng.choice(people),
                "task_id": rng.choice(tasks),
                "hours": hours,
                "cost": hours * Decimal("95.00"),
                "note": "seeded",
                "logged_on": today - timedelta(days=rng.randint(0, 120)),
                "created_at": now,
            }
        )
    await session.execute(insert(TimeEntry), rows)


async def _expenses(
    session: AsyncSession, project: Project, pm: Person, today: date, now: datetime
) -> None:
    await session.execute(
        insert(Expense),
        [
            {
                "project_id": project.id,
                "amount": Decimal("1200.00"),
                "description": f"Licence {n}",
                "category": "software",
                "person_id": pm.id,
                "spent_on": today - timedelta(days=n),
                "created_at": now,
            }
            for n in range(20)
        ],
    )
