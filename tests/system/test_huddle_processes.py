"""Two `liaison serve` processes on one PostgreSQL, both with schedulers and delivery
workers: the huddle's digest is posted once, a late answer edits it exactly once (one
chat.update, one late reply in its thread), and a blocker is escalated exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import HuddleBlocker, HuddleConfig, OccurrenceClaim, Person, Project
from tests.system_cluster import (
    ANN,
    TEAM_CHANNEL,
    SlowSlackApi,
    add_people,
    client_of,
    liaison,
    must,
    open_deliveries,
    quiet_schedule,
    until,
)

pytestmark = pytest.mark.slow


async def began_minutes_ago(sessions: async_sessionmaker[AsyncSession], minutes: int) -> None:
    """Today's ad-hoc huddle (15 minutes at least) started `minutes` ago: its digest is due."""
    earlier = datetime.now(UTC) - timedelta(minutes=minutes)
    async with sessions() as session, session.begin():
        await session.execute(update(HuddleConfig).values(adhoc_at=earlier))
        await session.execute(
            update(OccurrenceClaim)
            .where(OccurrenceClaim.key.like("huddle-prompt:%"))
            .values(claimed_at=earlier, due_at=earlier)
        )


async def test_two_processes_post_the_digest_once_and_edit_it_once_for_a_late_answer(
    db_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL; SQLite serves one process")
    async with SlowSlackApi(latency=0.01) as api, aiohttp.ClientSession() as http:
        add_people(api, ANN)
        api.add_user(ANN.user_id, ANN.name, team_id=ANN.team_id, tz="UTC")
        processes = [liaison(db_url, api, tmp_path / f"p{n}.log") for n in (1, 2)]
        try:
            for process in processes:
                process.start()
            await asyncio.gather(*(p.wait_ready() for p in processes))
            one, two = (client_of(p, http, api) for p in processes)
            await must(one, ANN, 'project new "Acme Site" client:"Acme"', TEAM_CHANNEL)
            await must(one, ANN, quiet_schedule(datetime.now(UTC)), TEAM_CHANNEL)
            await must(two, ANN, "huddle set time:03:00 window:15m", TEAM_CHANNEL)
            assert "I asked Ann" in await must(two, ANN, "huddle now", TEAM_CHANNEL)
            await began_minutes_ago(sessions, 16)

            def digests() -> list[str]:
                return [
                    str(c.args.get("text"))
                    for c in api.calls_to("chat.postMessage")
                    if c.args.get("channel") == TEAM_CHANNEL and "Huddle Acme" in str(c.args)
                ]

            async def digest_posted() -> bool:
                return len(digests()) >= 1

            await until(digest_posted, 30, "the digest posted")
            assert "0 of 1 answered" in digests()[0]
            late = await must(one, ANN, 'huddle answer "Brief" "Review" "DNS"', "D0ANN")
            assert "marked late" in late

            async def edited() -> bool:
                return bool(api.calls_to("chat.update")) and await open_deliveries(sessions) == 0

            await until(edited, 30, "the digest edited")
            await asyncio.sleep(2.5)  # scheduler ticks and worker rounds: a duplicate shows
        finally:
            for process in processes:
                process.stop()
    assert len(digests()) == 1
    (edit,) = api.calls_to("chat.update")
    (ts,) = [ts for (channel, ts), m in api.messages.items() if channel == TEAM_CHANNEL
             and "Huddle Acme" in m["text"]]  # fmt: skip
    assert edit.args["channel"] == TEAM_CHANNEL and edit.args["ts"] == ts
    assert "1 of 1 answered" in api.messages[(TEAM_CHANNEL, ts)]["text"]
    late_replies = [c for c in api.calls_to("chat.postMessage") if "(late)" in str(c.args)]
    assert len(late_replies) == 1 and late_replies[0].args["thread_ts"] == ts
    assert "Traceback" not in "\n".join(p.logs() for p in processes)


async def blocker_due_for_escalation(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The project works every day and its check-in was a minute ago; Ann's blocker was
    first said two days ago: it is 2 working days old now, due for escalation."""
    now = datetime.now(UTC)
    today = now.date()
    async with sessions() as session, session.begin():
        project = await session.scalar(select(Project))
        ann = await session.scalar(select(Person).where(Person.external_id == ANN.user_id))
        assert project is not None and ann is not None
        project.working_days = "1,2,3,4,5,6,7"
        project.checkin_time = (now - timedelta(minutes=1)).strftime("%H:%M")
        session.add(
            HuddleBlocker(
                project_id=project.id,
                number=1,
                author_id=ann.id,
                text="Waiting on DNS",
                first_day=today - timedelta(days=2),
                last_day=today - timedelta(days=1),
                status="open",
                created_at=now,
            )
        )


async def test_two_processes_escalate_a_blocker_once(
    db_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL; SQLite serves one process")
    async with SlowSlackApi(latency=0.01) as api, aiohttp.ClientSession() as http:
        add_people(api, ANN)
        api.add_user(ANN.user_id, ANN.name, team_id=ANN.team_id, tz="UTC")
        processes = [liaison(db_url, api, tmp_path / f"p{n}.log") for n in (1, 2)]
        try:
            for process in processes:
                process.start()
            await asyncio.gather(*(p.wait_ready() for p in processes))
            one = client_of(processes[0], http, api)
            await must(one, ANN, 'project new "Acme Site" client:"Acme"', TEAM_CHANNEL)
            later = datetime.now(UTC) + timedelta(hours=12)
            await must(one, ANN, f"project set tz:UTC checkin:{later:%H:%M}", TEAM_CHANNEL)
            await must(one, ANN, "huddle set time:03:00 escalate:2d", TEAM_CHANNEL)
            await blocker_due_for_escalation(sessions)

            def escalations() -> list[str]:
                return [
                    str(c.args.get("text"))
                    for c in api.calls_to("chat.postMessage")
                    if "Blocker escalated" in str(c.args.get("text"))
                ]

            async def escalated() -> bool:
                return bool(escalations()) and await open_deliveries(sessions) == 0

            await until(escalated, 30, "the blocker escalated")
            await asyncio.sleep(2.5)  # scheduler ticks in both processes: a duplicate shows
        finally:
            for process in processes:
                process.stop()
    assert len(escalations()) == 1
    (dm,) = [c for c in api.calls_to("chat.postMessage") if "Blocker escalated" in str(c.args)]
    assert dm.args["channel"] == ANN.user_id and "Waiting on DNS" in dm.args["text"]
    check_ins = [
        str(c.args.get("text"))
        for c in api.calls_to("chat.postMessage")
        if c.args.get("channel") == TEAM_CHANNEL and "Escalated: blocker #1" in str(c.args)
    ]
    assert len(check_ins) == 1
    async with sessions() as session:
        claims = await session.scalar(
            select(func.count())
            .select_from(OccurrenceClaim)
            .where(OccurrenceClaim.key.like("blocker-escalate:%"))
        )
    assert claims == 1
    assert "Traceback" not in "\n".join(p.logs() for p in processes)
