"""Benchmark 2: scheduler fan-out. One morning for N projects of 10 people each: the
due-step (bot.schedule.step.run_due, the scheduler's own code) claims every check-in, huddle
prompt, deadline reminder, client pulse and meeting agenda and writes their outbox rows.
Measured: wall time, SQL statements (as SQLAlchemy issues them; a multi-row insert is one),
claims and outbox rows, for 1,000 and for 10,000 projects, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.databases import analyze, fresh_postgres, fresh_sqlite
from bench.report import median, table
from storage.db import create_engine, session_factory
from storage.models import (
    Acquaintance,
    BudgetAlarm,
    ChannelLink,
    Delivery,
    HuddleBlocker,
    HuddleConfig,
    Meeting,
    Membership,
    OccurrenceClaim,
    Person,
    Project,
    Pulse,
    PulseConfig,
    Task,
    Tenant,
)

ZONE = "Europe/Berlin"
# A Tuesday in winter: 09:00 in Berlin is 08:00 UTC, every project's check-in and huddle,
# its client pulse (every other Tuesday from the project's start) and the agenda of its
# client meeting at 10:00 (sent an hour before).
MORNING = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
MEETING_TIME, AGENDA_MINUTES = "10:00", 60
MEMBERS = 10
TASKS = 3
CHUNK = 5000
# A morning slower than this (seconds) is measured once, not repeated.
REPEAT_LIMIT = 20.0


@dataclass
class FanoutCase:
    backend: str
    projects: int
    seconds: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    claims: int = 0
    deliveries: int = 0


async def seed_projects(url: str, count: int) -> None:
    """`count` projects, each with a PM and 9 members (each in their own DM), a team
    channel and a client channel, a daily huddle at the check-in time, a few tasks due
    around today, a client pulse due this morning and a weekly client meeting whose agenda
    is due this morning."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    created = MORNING - timedelta(days=30)
    try:
        async with sessions() as session, session.begin():
            tenant = await session.scalar(
                insert(Tenant)
                .values(platform="slack", external_id="T0001", created_at=created)
                .returning(Tenant.id)
            )
            for start in range(0, count, CHUNK):
                await _seed_chunk(session, tenant, range(start, min(count, start + CHUNK)), created)
    finally:
        await engine.dispose()
    await analyze(url)


async def _seed_chunk(
    session: AsyncSession, tenant: int, numbers: range, created: datetime
) -> None:
    # A fresh database: ids are given, so every insert is one plain multi-row statement.
    projects = [n + 1 for n in numbers]
    await _insert(session, Project, [_project(tenant, n, created) for n in numbers])
    await _insert(
        session, Person, [_person(n, m, created) for n in numbers for m in range(MEMBERS)]
    )
    # Each met by the tenant as one of its own: only those get the project's DMs.
    await _insert(
        session,
        Acquaintance,
        [
            {
                "person_id": _person_id(n, m),
                "tenant_id": tenant,
                "external": False,
                "met_at": created,
            }
            for n in numbers
            for m in range(MEMBERS)
        ],  # fmt: skip
    )
    await _insert(session, Membership, [
        {"project_id": pid, "person_id": _person_id(pid - 1, m),
         "role": "pm" if m == 0 else "member", "hourly_rate": Decimal("90"),
         "created_at": created}
        for pid in projects for m in range(MEMBERS)
    ])  # fmt: skip
    await _insert(session, ChannelLink, [
        {"project_id": pid, "platform": "slack", "tenant": "T0001",
         "channel_id": f"C{side[0].upper()}{pid:06d}", "side": side,
         "name": f"project-{pid}-{side}", "created_at": created}
        for pid in projects for side in ("team", "client")
    ])  # fmt: skip
    # The pulse every other Tuesday, counted from the project's start (1 November): due today.
    await _insert(session, PulseConfig, [
        {"project_id": pid, "enabled": True, "every_weeks": 2, "weekday": MORNING.isoweekday(),
         "after_signoff": True}
        for pid in projects
    ])  # fmt: skip
    await _insert(session, Meeting, [
        {"project_id": pid, "enabled": True, "weekday": MORNING.isoweekday(),
         "local_time": MEETING_TIME, "every_weeks": 1, "length_minutes": 45,
         "agenda_minutes": AGENDA_MINUTES, "anchor": date(2026, 11, 3), "edits": 0,
         "created_at": created}
        for pid in projects
    ])  # fmt: skip
    await _insert(session, HuddleConfig, [
        {"project_id": pid, "enabled": True, "local_time": "09:00",
         "questions": ["Done since last huddle?", "Today?", "Blockers?"], "window_minutes": 120}
        for pid in projects
    ])  # fmt: skip
    # An open blocker a project, said on Friday: 2 working days old this Tuesday morning, so
    # every project also escalates one to its PM.
    await _insert(session, HuddleBlocker, [
        {"project_id": pid, "number": 1, "author_id": _person_id(pid - 1, 1),
         "text": "Waiting on access", "first_day": date(2026, 11, 27),
         "last_day": date(2026, 11, 30), "status": "open", "created_at": created}
        for pid in projects
    ])  # fmt: skip
    day = MORNING.date()
    await _insert(session, Task, [
        {"project_id": pid, "number": t + 1, "title": f"Task {t + 1}", "status": "open",
         "owner_id": _person_id(pid - 1, 1 + t), "due_date": day + timedelta(days=t - 1),
         "created_at": created}
        for pid in projects for t in range(TASKS)
    ])  # fmt: skip


def _person_id(n: int, m: int) -> int:
    return n * MEMBERS + m + 1


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    await session.execute(insert(model), rows)


def _project(tenant: int, n: int, created: datetime) -> dict[str, Any]:
    return {
        "id": n + 1,
        "tenant_id": tenant,
        "name": f"Project {n}",
        "client_name": f"Client {n}",
        "timezone": ZONE,
        "currency": "EUR",
        "budget": Decimal("100000"),
        "start_date": date(2026, 11, 1),
        "due_date": date(2027, 6, 30),
        "checkin_time": "09:00",
        "created_at": created,
    }


def _person(n: int, m: int, created: datetime) -> dict[str, Any]:
    return {
        "id": _person_id(n, m),
        "platform": "slack",
        "external_id": f"U{n:06d}{m:02d}",
        "home_tenant": "T0001",
        "display_name": f"Person {n}.{m}",
        "timezone": ZONE,
        "created_at": created,
    }


async def one_morning(url: str) -> tuple[float, int, int, int]:
    """Run the due-step for the morning on a database where it has not run yet; returns
    seconds, statements, claims and outbox rows."""
    from bot.schedule.step import run_due

    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            for model in (Delivery, OccurrenceClaim, BudgetAlarm, Pulse):
                await session.execute(delete(model))
        async with engine.connect() as connection:  # a warm pool, as in `liaison serve`
            await connection.execute(select(1))
        counter = _Counter()
        event.listen(engine.sync_engine, "before_cursor_execute", counter)
        started = time.perf_counter()
        await run_due(sessions, MORNING)
        seconds = time.perf_counter() - started
        event.remove(engine.sync_engine, "before_cursor_execute", counter)
        async with sessions() as session:
            claims = await session.scalar(select(func.count()).select_from(OccurrenceClaim))
            rows = await session.scalar(select(func.count()).select_from(Delivery))
        return seconds, counter.count, int(claims or 0), int(rows or 0)
    finally:
        await engine.dispose()


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: object) -> None:
        self.count += 1


async def run_fanout(
    workdir: Path, *, rounds: int, quick: bool, progress: Callable[[str], None]
) -> tuple[str, str, list[str]]:
    sizes = (100, 1000) if quick else (1000, 10_000)
    cases: list[FanoutCase] = []
    async with AsyncExitStack() as stack:
        urls: dict[tuple[str, int], str] = {}
        for size in sizes:
            urls[("SQLite", size)] = await fresh_sqlite(workdir, f"fanout-{size}")
            urls[("PostgreSQL", size)] = await stack.enter_async_context(
                fresh_postgres(f"fanout{size}")
            )
        for (backend, size), url in urls.items():
            progress(f"fan-out: seeding {size} projects on {backend}")
            await seed_projects(url, size)
            cases.append(FanoutCase(backend, size))
        for number in range(rounds):
            for case in cases:
                if number and case.seconds[0] > REPEAT_LIMIT:
                    continue  # too slow to repeat within `make bench`'s time budget
                progress(f"fan-out round {number + 1}/{rounds}: {case.projects} on {case.backend}")
                seconds, statements, claims, rows = await one_morning(
                    urls[(case.backend, case.projects)]
                )
                case.seconds.append(seconds)
                case.statements.append(statements)
                case.claims, case.deliveries = claims, rows
    return "2. Scheduler fan-out: one morning", _fanout_section(cases), _fanout_verdicts(cases)


def _fanout_section(cases: list[FanoutCase]) -> str:
    rows = [
        [
            c.backend,
            f"{c.projects:,}",
            f"{c.claims:,}",
            f"{c.deliveries:,}",
            f"{median(c.seconds):.2f}",
            ", ".join(f"{s:.2f}" for s in c.seconds),
            " / ".join(str(n) for n in sorted(set(c.statements))),
        ]
        for c in cases
    ]
    return (
        f"Every project: {MEMBERS} people (a PM and {MEMBERS - 1} members, each with a huddle "
        f"prompt due), a team channel and a client channel, a daily huddle and the check-in "
        f"at 09:00 {ZONE}, {TASKS} tasks due around the day (deadline reminders), one huddle "
        "blocker due for escalation to the PM, the client pulse due that morning (every "
        f"other {MORNING:%A}) and a weekly client meeting at {MEETING_TIME} whose agenda is "
        f"due {AGENDA_MINUTES} minutes before (to the client side and, as the prep note, the "
        "team side). The step runs "
        f"`bot.schedule.step.run_due` at {MORNING.isoformat()} on a database where nothing was "
        "claimed yet; claims and outbox rows are counted afterwards. A morning slower than "
        f"{REPEAT_LIMIT:.0f} s is measured once (the time budget of `make bench`).\n\n"
        + table(
            [
                "backend",
                "projects",
                "claims",
                "outbox rows",
                "seconds (median)",
                "rounds",
                "SQL statements",
            ],
            rows,
        )
        + "\n"
    )


def _fanout_verdicts(cases: list[FanoutCase]) -> list[str]:
    verdicts = []
    for backend in sorted({c.backend for c in cases}):
        mine = sorted((c for c in cases if c.backend == backend), key=lambda c: c.projects)
        largest = mine[-1]
        seconds = median(largest.seconds)
        ok = seconds < 10
        verdicts.append(
            f"- {'met' if ok else 'MISSED'}: fan-out on {backend}, {largest.projects:,} "
            f"projects in {seconds:.2f} s < 10 s"
        )
        counts = {n for c in mine for n in c.statements}
        same = len(counts) == 1
        verdicts.append(
            f"- {'met' if same else 'MISSED'}: fan-out on {backend}, statements independent of "
            f"project count ({', '.join(f'{c.projects:,}: {c.statements[0]}' for c in mine)})"
        )
    return verdicts
