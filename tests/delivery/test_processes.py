"""Real `liaison serve` processes against a fake Slack Web API: a process killed in the
middle of delivery, and several processes with their schedulers on one PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.outbox import enqueue
from bot.messages import Message, Text
from storage.models import ChannelLink, Delivery, OccurrenceClaim
from tests.fakes.slack_api import FakeSlackApi
from tests.processes import LiaisonProcess, insert_projects

pytestmark = pytest.mark.slow


@dataclass
class GatedSlackApi(FakeSlackApi):
    """Answers the first `answer_first` posts, then holds every further post unanswered
    (recorded in `held`) until `gate` opens: a process can be killed mid-request."""

    answer_first: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    held: list[str] = field(default_factory=list)
    _posts: int = 0

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"] == "chat.postMessage" and not self.gate.is_set():
            self._posts += 1
            if self._posts > self.answer_first:
                self.held.append(await _text_of(request))
                await self.gate.wait()
                return web.json_response({"ok": False, "error": "fatal_error"}, status=503)
        return await super()._api(request)


async def _text_of(request: web.Request) -> str:
    body = await request.read()
    if request.content_type == "application/json":
        return str(json.loads(body).get("text"))
    return parse_qs(body.decode()).get("text", [""])[0]


def liaison(db_url: str, api: FakeSlackApi, log: Path, **env: str) -> LiaisonProcess:
    return LiaisonProcess(
        database_url=db_url,
        log_path=log,
        slack_api_url=api.url,
        signing_secret="test-secret",
        bot_token="xoxb-test",
        scheduler=True,
        extra_env=env,
    )


async def until(check, timeout: float = 30, what: str = "condition") -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"waited {timeout}s for {what}")


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with sessions() as session:
        rows = await session.execute(select(Delivery.message, Delivery.status))
        return {m["blocks"][0]["text"]: status for m, status in rows}


async def test_a_process_killed_mid_delivery_leaves_nothing_undelivered_or_sent_twice(
    db_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    texts = [f"channel {c} message {n}" for c in range(3) for n in range(3)]
    async with sessions() as session, session.begin():
        for text in texts:
            enqueue(
                session,
                project_id=None,
                platform="slack",
                tenant="T0001",
                channel_id=f"C{text.split()[1]}",
                target_kind="channel",
                message=Message(blocks=(Text(text),)),
                now=datetime.now(UTC),
            )
    async with GatedSlackApi(answer_first=3) as api:
        first = liaison(db_url, api, tmp_path / "first.log", LIAISON_DELIVERY_LEASE_SECONDS="3")
        first.start()
        try:

            async def three_sent_one_held() -> bool:
                sent = [s for s in (await statuses(sessions)).values() if s == "sent"]
                return len(sent) == 3 and len(api.held) >= 1

            await until(three_sent_one_held, what="three posts recorded and one in flight")
            first.kill()  # SIGKILL, in the middle of the held posts
        finally:
            first.stop()
        at_kill = await statuses(sessions)
        sent_before = {t for t, s in at_kill.items() if s == "sent"}
        in_flight = {t for t, s in at_kill.items() if s == "sending"}
        assert len(sent_before) == 3 and in_flight and in_flight <= set(api.held)
        api.gate.set()
        second = liaison(db_url, api, tmp_path / "second.log", LIAISON_DELIVERY_LEASE_SECONDS="3")
        second.start()
        try:

            async def all_sent() -> bool:
                return set((await statuses(sessions)).values()) == {"sent"}

            await until(all_sent, what="every row sent after the restart")
        finally:
            second.stop()
        answered = [call.args.get("text") for call in api.calls_to("chat.postMessage")]
    assert sorted(answered) == sorted(texts)  # each answered by Slack exactly once
    for text in sent_before:
        assert answered.count(text) == 1  # recorded as sent: never sent again
    # The posts in flight at the kill were sent again after their lease ran out
    # (at-least-once for those; see bot/delivery/outbox.py), and the rest were sent once.
    assert "re-sending delivery" in second.logs()


async def test_several_processes_with_schedulers_post_a_morning_of_200_projects_once(
    db_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL; SQLite runs one process")
    async with FakeSlackApi() as api:
        api.fail_next(status=429, retry_after=1, times=3)
        processes = [
            liaison(db_url, api, tmp_path / f"p{i}.log", LIAISON_SCHEDULER_INTERVAL_SECONDS="1")
            for i in range(3)
        ]
        for process in processes:
            process.start()
        try:
            await asyncio.gather(*(p.wait_ready() for p in processes))
            # Every scheduler now wakes each second; the morning arrives for all at once.
            await add_projects_due_now(sessions, 200)
            await api.wait_for("chat.postMessage", 203, timeout=60)
            await asyncio.sleep(2)  # time for any duplicate to show up
        finally:
            for process in processes:
                process.stop()
    channels = [call.args.get("channel") for call in api.calls_to("chat.postMessage")]
    assert len(channels) == 203  # 200 posts + the three rate-limited tries
    assert sorted(set(channels)) == [f"C{p:04d}" for p in range(1, 201)]
    async with sessions() as session:
        claims = await session.scalar(
            select(func.count(OccurrenceClaim.id)).where(
                OccurrenceClaim.key.like("checkin:%"), OccurrenceClaim.outcome == "queued"
            )
        )
        sent = await session.scalar(
            select(func.count(Delivery.id)).where(Delivery.status == "sent")
        )
    assert claims == 200 and sent == 200
    logs = "\n".join(p.logs() for p in processes)
    assert logs.count("due-step: 200 queued") == 1
    assert "Traceback" not in logs


async def add_projects_due_now(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    """`count` projects in UTC whose check-in was due a minute ago, each with its own
    Slack team channel."""
    now = datetime.now(UTC)
    checkin = (now - timedelta(minutes=1)).strftime("%H:%M")
    created = now - timedelta(days=30)
    async with sessions() as session, session.begin():
        await insert_projects(
            session,
            created,
            [
                {"id": p, "start_date": date(2026, 1, 1), "checkin_time": checkin}
                for p in range(1, count + 1)
            ],
        )
        await session.execute(
            insert(ChannelLink.__table__),
            [
                {
                    "project_id": p,
                    "platform": "slack",
                    "tenant": "T0001",
                    "channel_id": f"C{p:04d}",
                    "side": "team",
                    "created_at": created,
                }
                for p in range(1, count + 1)
            ],
        )
