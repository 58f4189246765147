"""`liaison run-due --at`: the due-step once, as an operator or a script runs it; console
posts on standard output; the same instant twice posts nothing the second time."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.models import ProcessedEvent
from tests.harness import Harness
from tests.processes import LIAISON, ROOT, TEST_SECRET_KEY, clean_environment
from tests.project_setup import kickoff


def run_due(db_url: str, at: str) -> subprocess.CompletedProcess[str]:
    env = {
        **clean_environment(),
        "LIAISON_DATABASE_URL": db_url,
        "LIAISON_SCHEDULER": "off",
        # The same key as the suite's own process: on PostgreSQL every process shares one.
        "LIAISON_SECRET_KEY": TEST_SECRET_KEY,
    }
    return subprocess.run(
        [str(LIAISON), "run-due", "--at", at],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


async def test_run_due_twice_for_the_same_instant_posts_once(bot: Harness, db_url: str) -> None:
    bot.clock.set("2026-11-30T10:00+00:00")
    await kickoff(bot)
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-01')
    await bot.say("ann", "huddle set time:09:00")
    bot.take_posts()
    first = await asyncio.to_thread(run_due, db_url, "2026-12-01T09:00:00Z")
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "-> #team [internal]\n*Good morning: Acme Site, Tue 1 Dec*" in out
    assert "-> @bob [internal]\n*Your deadlines in Acme Site*" in out
    assert "-> @bob [internal]\n*Huddle for Acme Site, Tue 1 Dec*" in out
    assert "-> @ann [internal]\n*Huddle for Acme Site, Tue 1 Dec*" in out
    assert "acme-shared" not in out
    assert "delivered 4 messages" in first.stderr
    second = await asyncio.to_thread(run_due, db_url, "2026-12-01T09:00:00Z")
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    assert "nothing due" in second.stderr and "delivered 0 messages" in second.stderr


async def test_run_due_runs_retention_by_the_real_clock(bot: Harness, db_url: str) -> None:
    """Deployments that run `run-due` from cron instead of `liaison serve` keep their tables
    small too: old delivery ids go; a rehearsal at a future instant deletes nothing early."""
    now = datetime.now(UTC)
    async with bot.sessions() as session, session.begin():
        for event_id, age in (("old", timedelta(days=3)), ("fresh", timedelta(hours=1))):
            session.add(ProcessedEvent(platform="slack", event_id=event_id, processed_at=now - age))
    future = (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = await asyncio.to_thread(run_due, db_url, future)
    assert result.returncode == 0, result.stderr
    assert "retention: deleted 1 processed events, 0 deliveries" in result.stderr
    async with bot.sessions() as session:
        left = await session.scalars(select(ProcessedEvent.event_id))
        assert list(left) == ["fresh"]


def test_run_due_refuses_an_instant_without_a_zone(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/x.db"  # type: ignore[str-format]
    result = run_due(url, "2026-12-01T09:00:00")
    assert result.returncode == 2
    assert "has no time zone" in result.stderr
    assert os.path.exists(f"{tmp_path}/x.db")
