"""Two `liaison serve` processes with their schedulers and delivery workers on one PostgreSQL:
the client meeting's agenda goes to the client side once and its prep note to the team side
once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import OccurrenceClaim, Project
from tests.system_cluster import (
    ANN,
    SHARED_CHANNEL,
    TEAM_CHANNEL,
    SlowSlackApi,
    add_people,
    client_of,
    liaison,
    must,
    open_deliveries,
    start_project,
    until,
)

pytestmark = pytest.mark.slow


async def works_every_day(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(Project).values(working_days="1,2,3,4,5,6,7"))


async def test_two_processes_post_the_agenda_once(
    db_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL; SQLite serves one process")
    async with SlowSlackApi(latency=0.01) as api, aiohttp.ClientSession() as http:
        add_people(api, ANN)
        api.add_channel(TEAM_CHANNEL, "acme-site-team")
        api.add_channel(SHARED_CHANNEL, "acme-shared", is_ext_shared=True)
        processes = [liaison(db_url, api, tmp_path / f"p{n}.log") for n in (1, 2)]
        try:
            for process in processes:
                process.start()
            await asyncio.gather(*(p.wait_ready() for p in processes))
            one, two = (client_of(p, http, api) for p in processes)
            await start_project(one)
            await works_every_day(sessions)
            # The meeting starts in 59 minutes (UTC): its 60-minute agenda was due a moment ago.
            starts = datetime.now(UTC) + timedelta(minutes=59)
            day = starts.strftime("%a").lower()
            line = f"meeting set {day} {starts:%H:%M} agenda:60m"
            await must(two, ANN, line, TEAM_CHANNEL)

            def posts(channel: str, marker: str) -> list[str]:
                return [
                    str(c.args)
                    for c in api.calls_to("chat.postMessage")
                    if c.args.get("channel") == channel and marker in str(c.args)
                ]

            async def both_posted() -> bool:
                return (
                    bool(posts(SHARED_CHANNEL, "Agenda: Acme Site"))
                    and bool(posts(TEAM_CHANNEL, "Prep: Acme Site"))
                    and await open_deliveries(sessions) == 0
                )

            await until(both_posted, 30, "the agenda posted")
            await asyncio.sleep(2.5)  # scheduler ticks in both processes: a duplicate shows
        finally:
            for process in processes:
                process.stop()
    assert len(posts(SHARED_CHANNEL, "Agenda: Acme Site")) == 1
    assert len(posts(TEAM_CHANNEL, "Prep: Acme Site")) == 1
    async with sessions() as session:
        claims = await session.scalar(
            select(func.count())
            .select_from(OccurrenceClaim)
            .where(OccurrenceClaim.key.like("agenda:%"))
        )
    assert claims == 1
    assert "Traceback" not in "\n".join(p.logs() for p in processes)
