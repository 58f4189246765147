"""Two `liaison serve` processes on one PostgreSQL, both with their schedulers on, under
concurrent signed Slack commands (two PMs, requests spread over both processes) while a
morning of 100 projects falls due: no lost write, no phantom write, no duplicate post."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ChangeRequest, OccurrenceClaim, Task
from tests.slack_requests import SlackUser
from tests.system_cluster import (
    ANN,
    TEAM,
    TEAM_CHANNEL,
    Burst,
    SlowSlackApi,
    add_people,
    client_of,
    liaison,
    must,
    open_deliveries,
    projects_due_now,
    start_project,
    until,
)

pytestmark = pytest.mark.slow
AMY = SlackUser("U0AMY", TEAM, "Amy")
TASKS, CHANGES, MORNING = 60, 8, 100


async def test_two_processes_lose_no_write_and_post_nothing_twice(
    db_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL; SQLite serves one process")
    async with SlowSlackApi(latency=0.01) as api, aiohttp.ClientSession() as http:
        add_people(api, ANN, AMY)
        processes = [liaison(db_url, api, tmp_path / f"p{n}.log") for n in (1, 2)]
        try:
            for process in processes:
                process.start()
            await asyncio.gather(*(p.wait_ready() for p in processes))
            one, two = (client_of(p, http, api) for p in processes)
            # Its own check-in and report (which list the changes) must not fall due now.
            await start_project(one)
            await must(two, ANN, "team add <@U0AMY|amy> role:pm", TEAM_CHANNEL)
            lines = [f'task add "Task #{n}#" <@U0ANN|ann> due:2027-01-15' for n in range(TASKS)]
            changes = [f'change "Change #{n}#" cost:5 days:1' for n in range(CHANGES)]
            bursts = [Burst() for _ in range(4)]
            morning = await projects_due_now(sessions, MORNING)  # both schedulers see it
            await asyncio.gather(
                bursts[0].run(one, ANN, lines[0::2], channel=TEAM_CHANNEL, success="added"),
                bursts[1].run(two, AMY, lines[1::2], channel=TEAM_CHANNEL, success="added"),
                bursts[2].run(two, ANN, changes[0::2], channel=TEAM_CHANNEL, success="#"),
                bursts[3].run(one, AMY, changes[1::2], channel=TEAM_CHANNEL, success="#"),
            )

            async def all_posted() -> bool:
                posted = {c.args.get("channel") for c in api.calls_to("chat.postMessage")}
                return set(morning) <= posted and await open_deliveries(sessions) == 0

            await until(all_posted, 60, "the morning and the change cards posted")
            await asyncio.sleep(1.5)  # a scheduler tick or two more: any duplicate shows
        finally:
            for process in processes:
                process.stop()

    # Every command was acknowledged, and every acknowledged write is there exactly once.
    assert [len(b.failed) for b in bursts] == [0, 0, 0, 0]
    async with sessions() as session:
        tasks = list((await session.execute(select(Task.title, Task.number))).all())
        cards = list((await session.scalars(select(ChangeRequest.title))).all())
        checkins = await session.scalar(
            select(func.count())
            .select_from(OccurrenceClaim)
            .where(OccurrenceClaim.key.like("checkin:%"), OccurrenceClaim.outcome == "queued")
        )
    assert sorted(t for t, _ in tasks) == sorted(line.split('"')[1] for line in lines)
    assert sorted(n for _, n in tasks) == list(range(1, TASKS + 1))
    assert sorted(cards) == sorted(line.split('"')[1] for line in changes)
    # Each morning check-in claimed once and posted once; each change card posted once.
    assert checkins == MORNING
    per_channel = Counter(c.args.get("channel") for c in api.calls_to("chat.postMessage"))
    assert {channel: per_channel[channel] for channel in morning} == dict.fromkeys(morning, 1)
    cards_posted = api.posted(r"(Change #\d+#)")
    assert cards_posted == Counter({title: 1 for title in cards})
    logs = "\n".join(p.logs() for p in processes)
    assert "command failed" not in logs
