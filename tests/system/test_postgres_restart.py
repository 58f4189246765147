"""PostgreSQL restarted in the middle of a run. The machine's shared server is never
touched: the test starts a private throwaway server (tests/private_postgres.py), crashes it
under a running `liaison serve` and starts it again. The service reports unhealthy on
/healthz meanwhile, recovers by itself, and loses nothing it acknowledged."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from storage.db import create_engine, migrate_async, session_factory
from storage.models import Delivery, Task
from tests.private_postgres import PrivatePostgres
from tests.served_app import SlackClient
from tests.system_cluster import (
    ANN,
    TEAM_CHANNEL,
    Burst,
    SlowSlackApi,
    add_people,
    client_of,
    liaison,
    must,
    open_deliveries,
    queue_posts,
    until,
)

pytestmark = pytest.mark.slow
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    try:
        server = PrivatePostgres().create()
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        if IN_CI:
            pytest.fail(f"cannot start a private PostgreSQL: {error}")
        pytest.skip(f"cannot start a private PostgreSQL: {error}")
    yield server
    server.destroy()


async def health(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url + "/healthz", timeout=aiohttp.ClientTimeout(10)) as response:
        return response.status


def tasks(numbers: range) -> list[str]:
    return [f'task add "Task #{n}#" <@U0ANN|ann> due:2027-01-15' for n in numbers]


async def add(client: SlackClient, lines: list[str]) -> Burst:
    return await Burst().run(client, ANN, lines, channel=TEAM_CHANNEL, success="added")


async def test_postgres_restarted_mid_run_is_survived_without_losing_anything(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    url = private_postgres.url
    await migrate_async(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with SlowSlackApi(latency=0.05) as api, aiohttp.ClientSession() as http:
        add_people(api, ANN)
        process = liaison(url, api, tmp_path / "serve.log").start()
        try:
            await process.wait_ready()
            client = client_of(process, http, api)
            await must(client, ANN, 'project new "Acme Site" client:"Acme"', TEAM_CHANNEL)
            before = await add(client, tasks(range(0, 10)))
            await queue_posts(sessions, 12, 3)  # one a second a channel: still going at the crash
            waiting = await open_deliveries(sessions)
            await engine.dispose()

            private_postgres.crash()

            async def unhealthy() -> bool:
                return await health(http, process.url) == 503

            await until(unhealthy, 20, "/healthz to report the database down")
            during = await add(client, tasks(range(10, 15)))

            private_postgres.start()

            async def healthy() -> bool:
                return await health(http, process.url) == 200

            await until(healthy, 30, "/healthz to recover by itself")
            after = await add(client, tasks(range(15, 25)))

            async def delivered() -> bool:
                try:
                    return await open_deliveries(sessions) == 0
                finally:
                    await engine.dispose()

            await until(delivered, 60, "the outbox to drain after the restart")
            assert process.running()
        finally:
            process.stop()
        async with sessions() as session:
            stored = list((await session.scalars(select(Task.title))).all())
            outcomes = set((await session.scalars(select(Delivery.status))).all())
        await engine.dispose()

    assert before.acknowledged == set(range(10))
    assert during.acknowledged == set()  # nothing claimed done while the database was down
    assert after.acknowledged == set(range(10))  # and all well again, without a restart
    for n in (*range(10), *range(15, 25)):
        assert stored.count(f"Task #{n}#") == 1
    assert len(stored) == len(set(stored))
    assert waiting > 0 and outcomes == {"sent"}
