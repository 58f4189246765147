"""The due-step reads and writes in a number of SQL statements that does not grow with the
number of projects: 1,000 projects cost what 10 do."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.messages import Chart, message_from_dict
from bot.schedule.step import run_due
from storage.db import create_engine, session_factory
from storage.models import (
    Acquaintance,
    ChannelLink,
    ClientRequest,
    Conversation,
    Delivery,
    Expense,
    HuddleAnswer,
    HuddleBlocker,
    HuddleConfig,
    Membership,
    Milestone,
    OccurrenceClaim,
    Person,
    Project,
    Pulse,
    PulseConfig,
    Risk,
    Task,
    Tenant,
)
from tests.conftest import StatementCounter

MORNING = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # a Tuesday
# Friday 15:00, the default report time: on time in UTC, an hour late in Berlin (still
# posted within the grace period), 5.5 hours late in Kolkata (skipped).
FRIDAY = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
CREATED = datetime(2026, 11, 1, tzinfo=UTC)


async def populate(sessions: async_sessionmaker[AsyncSession], count: int, offset: int) -> None:
    """`count` projects with a PM and a member, a team channel, a huddle, tasks due and
    overdue, a milestone in 3 working days, a budget past 50%, a client request, a risk
    to review and yesterday's blockers: everything the morning can say."""
    ids = range(offset + 1, offset + count + 1)
    people = [pid * 2 + k for pid in ids for k in (0, 1)]
    rows: list[tuple[type, list[dict]]] = [
        (
            Project,
            [
                {
                    "id": p,
                    "tenant_id": 1,
                    "name": f"P{p}",
                    "client_name": "C",
                    "timezone": ("Europe/Berlin", "UTC", "Asia/Kolkata")[p % 3],
                    "currency": "USD",
                    "budget": Decimal("10000"),
                    "start_date": date(2026, 11, 1),
                    "due_date": date(2027, 6, 1),
                    "working_days": "1,2,3,4,5",
                    "day_hours": Decimal("8"),
                    "checkin_time": ("10:30", "09:30", "15:00")[p % 3],  # 09:30 UTC
                    "checkin_all_clear": True,
                    "report_weekday": 5,
                    "report_time": "15:00",
                    "budget_thresholds": "50,75,90,100",
                    "archived": False,
                    "created_at": CREATED,
                }
                for p in ids
            ],
        ),
        (
            Person,
            [
                {
                    "id": n,
                    "platform": "console",
                    "external_id": f"u{n}",
                    "home_tenant": "local",
                    "display_name": f"u{n}",
                    "timezone": None,
                    "created_at": CREATED,
                }
                for n in people
            ],
        ),
        (
            Acquaintance,
            [
                {"person_id": n, "tenant_id": 1, "external": False, "met_at": CREATED}
                for n in people
            ],
        ),
        (
            Membership,
            [
                {
                    "project_id": n // 2,
                    "person_id": n,
                    "role": "pm" if n % 2 == 0 else "member",
                    "created_at": CREATED,
                }
                for n in people
            ],
        ),
        (
            Conversation,
            [
                {
                    "platform": "console",
                    "tenant": "local",
                    "channel_id": f"dm:u{n}",
                    "kind": "dm",
                    "person_id": n,
                    "reachable": True,
                    "updated_at": CREATED,
                }
                for n in people
            ],
        ),
        (
            ChannelLink,
            [
                {
                    "project_id": p,
                    "platform": "console",
                    "tenant": "local",
                    "channel_id": f"team-{p}",
                    "side": "team",
                    "created_at": CREATED,
                }
                for p in ids
            ],
        ),
        (
            HuddleConfig,
            [
                {
                    "project_id": p,
                    "enabled": True,
                    "local_time": ("10:30", "09:30", "15:00")[p % 3],  # 09:30 UTC
                    "questions": ["Done?", "Today?", "Blockers?"],
                    "window_minutes": 120,
                }
                for p in ids
            ],
        ),
        (
            Task,
            [
                {
                    "project_id": p,
                    "number": k,
                    "title": f"Task {k}",
                    "owner_id": p * 2 + 1,
                    "due_date": due,
                    "status": status,
                    "created_at": CREATED,
                }
                for p in ids
                for k, due, status in (
                    (1, date(2026, 11, 27), "open"),
                    (2, date(2026, 12, 1), "open"),
                    (3, date(2026, 12, 2), "blocked"),
                )
            ],
        ),
        (
            Milestone,
            [
                {
                    "project_id": p,
                    "number": 1,
                    "title": "Beta",
                    "due_date": date(2026, 12, 4),
                    "client_signoff": True,
                    "created_at": CREATED,
                }
                for p in ids
            ],
        ),
        (
            Expense,
            [
                {
                    "project_id": p,
                    "amount": Decimal("6000"),
                    "description": "x",
                    "category": "general",
                    "spent_on": date(2026, 11, 2),
                    "created_at": CREATED,
                }
                for p in ids
            ],
        ),
        (
            ClientRequest,
            [
                {
                    "project_id": p,
                    "number": 1,
                    "text": "New logo",
                    "raised_by_id": p * 2,
                    "status": "open",
                    "created_at": CREATED,
                }
                for p in ids
            ],
        ),
        (
            Risk,
            [
                {
                    "project_id": p,
                    "number": 1,
                    "title": "Vendor",
                    "likelihood": 3,
                    "impact": 3,
                    "client_visible": False,
                    "status": "open",
                    "review_on": date(2026, 11, 30),
                    "created_at": CREATED,
                }
                for p in ids
            ],
        ),
        (
            HuddleAnswer,
            [
                {
                    "project_id": p,
                    "person_id": p * 2 + 1,
                    "huddle_date": date(2026, 11, 30),
                    "answers": ["a", "b", "DNS"],
                    "blockers": "DNS",
                    "answered_at": CREATED,
                }
                for p in ids
            ],
        ),
        (
            HuddleBlocker,
            [
                {
                    "project_id": p,
                    "number": 1,
                    "author_id": p * 2 + 1,
                    "text": "DNS",
                    # Friday: 2 working days old on Tuesday's check-in, when it escalates.
                    "first_day": date(2026, 11, 27),
                    "last_day": date(2026, 11, 30),
                    "status": "open",
                    "created_at": CREATED,
                }
                for p in ids
            ],
        ),
    ]
    async with sessions() as session, session.begin():
        if offset == 0:
            await session.execute(
                insert(Tenant.__table__),
                [{"id": 1, "platform": "console", "external_id": "local", "created_at": CREATED}],
            )
        for model, values in rows:
            await session.execute(insert(model.__table__), values)


async def due_step_statements(
    sessions: async_sessionmaker[AsyncSession], statements: StatementCounter, at: datetime = MORNING
) -> tuple[int, int]:
    statements.reset()
    await run_due(sessions, at, grace=timedelta(minutes=120))
    busy = statements.count
    statements.reset()
    await run_due(sessions, at + timedelta(minutes=1), grace=timedelta(minutes=120))
    return busy, statements.count


async def wipe_outcomes(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(Delivery.__table__.delete())
        await session.execute(OccurrenceClaim.__table__.delete())
        await session.execute(HuddleConfig.__table__.update().values(enabled=True))
        from storage.models import BudgetAlarm

        await session.execute(BudgetAlarm.__table__.delete())


async def test_the_due_step_for_1000_projects_runs_as_many_statements_as_for_10(
    sessions: async_sessionmaker[AsyncSession], statements: StatementCounter
) -> None:
    await populate(sessions, 10, 0)
    small = await due_step_statements(sessions, statements)
    async with sessions() as session:
        small_posts = await session.scalar(select(func.count(Delivery.id)))
    await wipe_outcomes(sessions)
    await populate(sessions, 990, 10)
    large = await due_step_statements(sessions, statements)
    async with sessions() as session:
        large_posts = await session.scalar(select(func.count(Delivery.id)))
        kinds = (await session.scalars(select(OccurrenceClaim.key))).all()
    # Per project: a check-in, two huddle prompts, a deadline DM, two milestone notices
    # (team and client side... the client side is not linked: claimed empty), a budget
    # warning, and a blocker escalated to the PM.
    assert small_posts == 10 * 7 and large_posts == 1000 * 7
    assert {k.split(":")[0] for k in kinds} >= {
        "checkin",
        "huddle-prompt",
        "deadline-today",
        "deadline-overdue",
        "milestone-team",
        "budget",
        "blocker-escalate",
    }
    assert large == small
    # The budgets are one statement of the running totals (storage.ledger_totals), not two
    # sums over every expense and time entry: 23 and 16 before.
    assert small[0] <= 22 and small[1] <= 15


# --- weekly reports ---------------------------------------------------------------------


async def link_client_sides(
    sessions: async_sessionmaker[AsyncSession], count: int, offset: int
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            insert(ChannelLink.__table__),
            [
                {
                    "project_id": p,
                    "platform": "console",
                    "tenant": "local",
                    "channel_id": f"client-{p}",
                    "side": "client",
                    "created_at": CREATED,
                }
                for p in range(offset + 1, offset + count + 1)
            ],
        )


async def written_reports(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list]:
    """The report rows of the outbox, by channel, and the reports' claim outcomes."""
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.channel_id, Delivery.audience, Delivery.message).where(
                Delivery.occurrence_key.like("report:%")
            )
        )
        claims = await session.execute(
            select(OccurrenceClaim.project_id, OccurrenceClaim.outcome).where(
                OccurrenceClaim.key.like("report:%")
            )
        )
        found: dict[str, list] = {"claims": sorted(claims.all())}
        for channel, audience, message in rows:
            found.setdefault(channel, []).append((audience, message_from_dict(message)))
    return found


def check_reports(found: dict[str, list], count: int) -> None:
    """Each project's report went out once to each side, but the skipped (too late) ones."""
    posted = [p for p in range(1, count + 1) if p % 3 != 2]  # Kolkata's were due at 09:30 UTC
    assert found.pop("claims") == sorted(
        (p, "queued" if p in posted else "skipped") for p in range(1, count + 1)
    )
    assert sorted(found) == sorted([f"client-{p}" for p in posted] + [f"team-{p}" for p in posted])
    for channel, ((audience, message),) in found.items():
        text = message.plain_text()
        charts = [b.kind for b in message.blocks if isinstance(b, Chart)]
        assert "2026-12-04" in text, text
        if channel.startswith("client-"):
            assert audience == message.audience == "client"
            assert text.startswith("*Weekly update: P") and charts == ["timeline"]
            assert "USD" not in text and "6,000" not in text and "Vendor" not in text
        else:
            assert audience == message.audience == "internal"
            assert text.startswith("*Weekly report: P") and charts == ["burn-up", "timeline"]
            assert "Spent: USD 6,000.00" in text and "Risk 1 Vendor" in text


async def test_weekly_reports_for_1000_projects_run_as_many_statements_as_for_10(
    sessions: async_sessionmaker[AsyncSession], statements: StatementCounter
) -> None:
    await populate(sessions, 10, 0)
    await link_client_sides(sessions, 10, 0)
    small = await due_step_statements(sessions, statements, FRIDAY)
    check_reports(await written_reports(sessions), 10)
    await wipe_outcomes(sessions)
    await populate(sessions, 990, 10)
    await link_client_sides(sessions, 990, 10)
    large = await due_step_statements(sessions, statements, FRIDAY)
    check_reports(await written_reports(sessions), 1000)
    assert large == small
    assert small[0] <= 40


# --- client pulses ------------------------------------------------------------------------


async def pulse_on_tuesdays(
    sessions: async_sessionmaker[AsyncSession], count: int, offset: int
) -> None:
    await link_client_sides(sessions, count, offset)
    async with sessions() as session, session.begin():
        await session.execute(
            insert(PulseConfig.__table__),
            [
                {"project_id": p, "enabled": True, "every_weeks": 1, "weekday": 2}
                for p in range(offset + 1, offset + count + 1)
            ],
        )


async def asked_pulses(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        pulses = await session.scalar(select(func.count(Pulse.id)))
        questions = await session.scalar(
            select(func.count(Delivery.id)).where(Delivery.occurrence_key.like("pulse:%"))
        )
    return pulses or 0, questions or 0


async def test_pulses_for_1000_projects_run_as_many_statements_as_for_10(
    sessions: async_sessionmaker[AsyncSession], statements: StatementCounter
) -> None:
    await populate(sessions, 10, 0)
    await pulse_on_tuesdays(sessions, 10, 0)
    small = await due_step_statements(sessions, statements)
    assert await asked_pulses(sessions) == (10, 10)
    await wipe_outcomes(sessions)
    async with sessions() as session, session.begin():
        await session.execute(Pulse.__table__.delete())
    await populate(sessions, 990, 10)
    await pulse_on_tuesdays(sessions, 990, 10)
    large = await due_step_statements(sessions, statements)
    assert await asked_pulses(sessions) == (1000, 1000)
    assert large == small


# --- closed projects ----------------------------------------------------------------------


async def close_projects(
    sessions: async_sessionmaker[AsyncSession], count: int, offset: int
) -> None:
    """Close the projects, their retrospective closing this morning with both people's
    answers in."""
    from storage.models import RetroAnswer

    ids = list(range(offset + 1, offset + count + 1))
    closed_on = date(2026, 11, 26)
    async with sessions() as session, session.begin():
        await session.execute(
            Project.__table__.update()
            .where(Project.id.in_(ids))
            .values(archived=True, closed_on=closed_on, retro_until=MORNING - timedelta(minutes=5))
        )
        await session.execute(
            insert(RetroAnswer.__table__),
            [
                {
                    "project_id": p,
                    "person_id": p * 2 + k,
                    "closed_on": closed_on,
                    "went_well": "Scope",
                    "would_change": "Reviews",
                    "answered_at": CREATED,
                }
                for p in ids
                for k in (0, 1)
            ],
        )


async def test_closed_projects_get_only_their_retro_in_as_many_statements_for_1000_as_10(
    sessions: async_sessionmaker[AsyncSession], statements: StatementCounter
) -> None:
    await populate(sessions, 10, 0)
    await close_projects(sessions, 10, 0)
    small = await due_step_statements(sessions, statements)
    async with sessions() as session:
        keys = (await session.scalars(select(OccurrenceClaim.key))).all()
        assert await session.scalar(select(func.count(Delivery.id))) == 10
    # Nothing but the retrospective for a closed project: no check-in, huddle, reminder,
    # milestone notice or budget warning.
    assert sorted(keys) == sorted(f"retro:project={p}:2026-11-26" for p in range(1, 11))
    await wipe_outcomes(sessions)
    await populate(sessions, 990, 10)
    await close_projects(sessions, 990, 10)
    large = await due_step_statements(sessions, statements)
    async with sessions() as session:
        assert await session.scalar(select(func.count(Delivery.id))) == 1000
    assert large == small


# --- client meetings ----------------------------------------------------------------------


async def meet_on_tuesdays(
    sessions: async_sessionmaker[AsyncSession], count: int, offset: int
) -> None:
    """Client meetings whose agenda (60 minutes before) is due at MORNING in each project's
    zone, a question for it, an address that wants agendas, and a client's action item due
    the next day (reminded this morning)."""
    from storage.models import ActionItem, EmailRecipient, Meeting, MeetingQuestion

    ids = range(offset + 1, offset + count + 1)
    await link_client_sides(sessions, count, offset)
    async with sessions() as session, session.begin():
        for model, values in (
            (
                Meeting,
                [
                    {
                        "project_id": p,
                        "enabled": True,
                        "weekday": 2,
                        "local_time": ("11:30", "10:30", "16:00")[p % 3],  # 10:30 UTC
                        "every_weeks": 1,
                        "length_minutes": 45,
                        "agenda_minutes": 60,
                        "anchor": date(2026, 11, 3),
                        "created_at": CREATED,
                    }
                    for p in ids
                ],
            ),
            (
                MeetingQuestion,
                [{"project_id": p, "text": "Staging?", "created_at": CREATED} for p in ids],
            ),
            (
                EmailRecipient,
                [
                    {
                        "project_id": p,
                        "address": f"client{p}@client.example",
                        "wants": "agenda",
                        "token": f"t{p}",
                        "token_digest": f"d{p}",
                        "created_at": CREATED,
                    }
                    for p in ids
                ],
            ),
            (
                ActionItem,
                [
                    {
                        "project_id": p,
                        "number": 1,
                        "title": "Send the logo",
                        "owner_id": p * 2 + 1,
                        "client_owned": True,
                        "internal": False,
                        "due_date": date(2026, 12, 2),
                        "status": "open",
                        "created_at": CREATED,
                    }
                    for p in ids
                ],
            ),
        ):
            await session.execute(insert(model.__table__), values)


async def meeting_posts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.platform, Delivery.audience, func.count(Delivery.id))
            .where(
                Delivery.occurrence_key.like("agenda:%") | Delivery.occurrence_key.like("action-%")
            )
            .group_by(Delivery.platform, Delivery.audience)
        )
        return {f"{platform}/{audience}": n for platform, audience, n in rows}


async def test_agendas_for_1000_projects_run_as_many_statements_as_for_10(
    sessions: async_sessionmaker[AsyncSession], statements: StatementCounter
) -> None:
    await populate(sessions, 10, 0)
    await meet_on_tuesdays(sessions, 10, 0)
    small = await due_step_statements(sessions, statements)
    # Per project: the agenda and the reminder to the client side, the prep note to the
    # team side, the agenda by email.
    assert await meeting_posts(sessions) == {
        "console/client": 20,
        "console/internal": 10,
        "email/client": 10,
    }
    await wipe_outcomes(sessions)
    await populate(sessions, 990, 10)
    await meet_on_tuesdays(sessions, 990, 10)
    large = await due_step_statements(sessions, statements)
    assert (await meeting_posts(sessions))["console/internal"] == 1000
    assert large == small


# --- two due-steps at once -------------------------------------------------------------------


async def test_two_due_steps_at_once_write_each_post_once(
    db_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Two schedulers (two processes) run the same morning at the same time: each writes its
    outbox rows while building, then its claims; whichever claims second rolls back and,
    reading again, finds nothing left to do."""
    await populate(sessions, 40, 0)
    other = create_engine(db_url)
    try:
        results = await asyncio.gather(
            run_due(sessions, MORNING), run_due(session_factory(other), MORNING)
        )
    finally:
        await other.dispose()
    async with sessions() as session:
        keys = Counter(await session.scalars(select(Delivery.occurrence_key)))
    assert sorted(r.deliveries for r in results) == [0, 40 * 7]
    assert sum(keys.values()) == 40 * 7 and set(keys.values()) == {1}
