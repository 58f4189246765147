"""Graceful shutdown of a real `liaison serve`: SIGTERM in the middle of a burst of signed
commands and of delivery. The process refuses new connections, finishes what is in flight,
records the posts on the wire, gives the outbox rows it took back (due now, not when their
lease runs out) and exits 0; the next process delivers the rest. Nothing acknowledged is
lost and nothing is posted twice."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Task
from tests.system_cluster import (
    ANN,
    TEAM_CHANNEL,
    Burst,
    SlowSlackApi,
    add_people,
    client_of,
    liaison,
    open_deliveries,
    queue_posts,
    start_project,
    statuses,
    until,
)

pytestmark = pytest.mark.slow
# At Slack's pace of one post a second per channel, 10 rows a channel take 10 s to post:
# the SIGTERM lands with most of them still queued in the worker.
ROWS, CHANNELS, TASKS = 200, 20, 45
# The production lease: a row left `sending` would wait two minutes for another process.
LEASE = "120"


async def test_sigterm_mid_burst_finishes_in_flight_work_hands_over_and_exits_0(
    db_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path
) -> None:
    async with SlowSlackApi(latency=0.05) as api, aiohttp.ClientSession() as http:
        add_people(api, ANN)
        first = liaison(db_url, api, tmp_path / "first.log", LIAISON_DELIVERY_LEASE_SECONDS=LEASE)
        first.start()
        try:
            await first.wait_ready()
            client = client_of(first, http, api)
            await start_project(client)
            await queue_posts(sessions, ROWS, CHANNELS)
            lines = [
                f'task add "Burst task #{n}#" <@U0ANN|ann> due:2027-01-15' for n in range(TASKS)
            ]

            async def under_way() -> bool:
                return len(api.calls_to("chat.postMessage")) >= CHANNELS

            await until(under_way, 30, "deliveries under way")
            burst = Burst()
            stopped: dict[str, float | int | None] = {}

            async def terminate_mid_burst() -> None:
                async def a_third() -> bool:
                    return len(burst.acknowledged) >= TASKS // 3

                await until(a_third, 30, "a third of the burst acknowledged")
                assert first.process is not None
                started = time.monotonic()
                first.process.send_signal(signal.SIGTERM)
                stopped["code"] = await asyncio.to_thread(first.process.wait, 30)
                stopped["seconds"] = time.monotonic() - started

            await asyncio.gather(
                burst.run(client, ANN, lines, channel=TEAM_CHANNEL, success="#"),
                terminate_mid_burst(),
            )
        finally:
            first.kill()
        at_exit = Counter((await statuses(sessions)).values())
        posts_before = len(api.calls_to("chat.postMessage"))

        second = liaison(db_url, api, tmp_path / "second.log", LIAISON_DELIVERY_LEASE_SECONDS=LEASE)
        second.start()
        try:
            await second.wait_ready()

            async def delivered() -> bool:
                return await open_deliveries(sessions) == 0

            # Well within the lease: only rows given back can be taken this soon.
            await until(delivered, 40, "every outbox row delivered by the next process")
        finally:
            second_code = second.stop()

    assert stopped["code"] == 0 and second_code == 0
    assert stopped["seconds"] is not None and stopped["seconds"] < 20
    logs = first.logs()
    assert "shutting down" in logs and "stopped" in logs and "Traceback" not in logs
    # Mid-delivery: some rows were posted, some still queued; none left held by a lease.
    assert at_exit["sending"] == 0 and at_exit["pending"] > 0 and posts_before > CHANNELS
    # Mid-burst: some commands were answered before the SIGTERM, the later ones refused.
    assert burst.acknowledged and burst.failed
    async with sessions() as session:
        titles = list((await session.scalars(select(Task.title))).all())
    for n in burst.acknowledged:
        assert titles.count(f"Burst task #{n}#") == 1, lines[n]
    assert len(titles) == len(set(titles))
    # Every outbox row posted exactly once, across the two processes.
    posted = api.posted(r"outbox row #(\d+)#")
    assert sorted(int(n) for n in posted) == list(range(ROWS))
    assert set(posted.values()) == {1}
    assert "re-sending delivery" not in second.logs()
