"""Real `liaison serve` processes for the fault and scale-out tests: a fake Slack Web API
that takes a little time per post (so a kill can land mid-delivery), signed commands sent
to a process, outbox rows queued directly, and what the database and Slack saw."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.outbox import delivery_values
from bot.delivery.vocabulary import Target
from bot.messages import Message, Text
from storage.models import ChannelLink, Delivery, Project, Tenant
from tests.fakes.slack_api import FakeSlackApi
from tests.processes import LiaisonProcess, weekday_away_from
from tests.served_app import BOT_TOKEN, SIGNING_SECRET, SlackClient
from tests.slack_requests import SlackUser

TEAM = "T0001"
ANN = SlackUser("U0ANN", TEAM, "Ann")
TEAM_CHANNEL, SHARED_CHANNEL = "C0TEAM", "C0SHARED"


@dataclass
class SlowSlackApi(FakeSlackApi):
    """Each post takes `latency` seconds; a post counts as made once it is answered."""

    latency: float = 0.02

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"] == "chat.postMessage":
            await asyncio.sleep(self.latency)
        return await super()._api(request)

    def posted(self, pattern: str) -> Counter[str]:
        """How many times each match of `pattern` (one group) was posted."""
        found: Counter[str] = Counter()
        for call in self.calls_to("chat.postMessage"):
            found.update(re.findall(pattern, str(call.args.get("text", ""))))
        return found


def liaison(db_url: str, api: FakeSlackApi, log: Path, **env: str) -> LiaisonProcess:
    settings = {
        "LIAISON_SCHEDULER_INTERVAL_SECONDS": "1",
        "LIAISON_DELIVERY_LEASE_SECONDS": "3",
        **env,
    }
    return LiaisonProcess(
        database_url=db_url,
        log_path=log,
        slack_api_url=api.url,
        signing_secret=SIGNING_SECRET,
        bot_token=BOT_TOKEN,
        scheduler=True,
        extra_env=settings,
    )


def client_of(
    process: LiaisonProcess, http: aiohttp.ClientSession, api: FakeSlackApi
) -> SlackClient:
    return SlackClient(url=process.url, http=http, api=api)


def add_people(api: FakeSlackApi, *users: SlackUser) -> None:
    for user in users:
        api.add_user(user.user_id, user.name, team_id=user.team_id)
    api.add_channel(TEAM_CHANNEL, "acme-team")
    api.add_channel(SHARED_CHANNEL, "acme-shared", is_ext_shared=True)


def quiet_schedule(now: datetime) -> str:
    """A `project set` line that keeps a project's own check-in and weekly report (which
    list its tasks and changes) from falling due while a test runs, whatever the hour."""
    later = now + timedelta(hours=12)
    report_day = (now + timedelta(days=3)).strftime("%a").lower()
    return f"project set tz:UTC checkin:{later:%H:%M} report:{report_day}"


async def must(client: SlackClient, user: SlackUser, line: str, channel: str) -> str:
    reply = await client.slash(user, line, channel_id=channel)
    assert reply.status == 200 and "Usage:" not in reply.text and "went wrong" not in reply.text, (
        line,
        reply.text,
    )
    return reply.text


async def start_project(client: SlackClient) -> None:
    """Ann's "Acme Site" in the team channel, on a schedule that stays quiet while the test
    runs, linked to the client's shared channel: where every multi-process test begins."""
    await must(client, ANN, 'project new "Acme Site" client:"Acme"', TEAM_CHANNEL)
    await must(client, ANN, quiet_schedule(datetime.now(UTC)), TEAM_CHANNEL)
    await must(client, ANN, "project link client", SHARED_CHANNEL)


async def queue_posts(
    sessions: async_sessionmaker[AsyncSession], count: int, channels: int
) -> None:
    """`count` outbox rows "outbox row #n#" spread over `channels` Slack channels."""
    now = datetime.now(UTC)
    rows = [
        delivery_values(
            project_id=None,
            target=Target("slack", TEAM, f"C{n % channels:04d}", "channel"),
            message=Message(blocks=(Text(f"outbox row #{n}#"),)),
            now=now,
        )
        for n in range(count)
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(Delivery.__table__), rows)


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    async with sessions() as session:
        return dict((await session.execute(select(Delivery.id, Delivery.status))).all())


async def open_deliveries(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status.in_(("pending", "sending")))
            )
            or 0
        )


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"waited {timeout}s for {what}")


@dataclass
class Burst:
    """Commands sent concurrently; which of them were acknowledged with success (filled in
    while they run, so a test can act in the middle)."""

    acknowledged: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)

    async def run(
        self,
        client: SlackClient,
        user: SlackUser,
        lines: list[str],
        *,
        channel: str,
        success: str,
        concurrency: int = 4,
    ) -> Burst:
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int, line: str) -> None:
            async with gate:
                try:
                    reply = await client.slash(user, line, channel_id=channel, wait=5)
                except (aiohttp.ClientError, TimeoutError):
                    self.failed.add(index)
                    return
                (self.acknowledged if success in reply.text else self.failed).add(index)

        await asyncio.gather(*(one(i, line) for i, line in enumerate(lines)))
        return self


async def projects_due_now(sessions: async_sessionmaker[AsyncSession], count: int) -> list[str]:
    """`count` projects in UTC whose morning check-in was due a minute ago, each with its
    own Slack team channel; returns those channels."""
    now = datetime.now(UTC)
    created = now - timedelta(days=30)
    checkin = (now - timedelta(minutes=1)).strftime("%H:%M")
    channels = [f"CMORNING{n:04d}" for n in range(count)]
    async with sessions() as session, session.begin():
        tenant = await session.scalar(select(Tenant.id).where(Tenant.external_id == TEAM))
        assert tenant is not None, "a command from the workspace creates its tenant first"
        ids = list(
            await session.scalars(
                insert(Project).returning(Project.id, sort_by_parameter_order=True),
                [
                    {"tenant_id": tenant, "name": f"Morning {n}", "client_name": "Client",
                     "timezone": "UTC", "working_days": "1,2,3,4,5,6,7", "checkin_time": checkin,
                     "report_weekday": weekday_away_from(now), "start_date": date(2026, 1, 1),
                     "created_at": created}
                    for n in range(count)
                ],
            )
        )  # fmt: skip
        await session.execute(
            insert(ChannelLink),
            [
                {"project_id": pid, "platform": "slack", "tenant": TEAM, "channel_id": channel,
                 "side": "team", "created_at": created}
                for pid, channel in zip(ids, channels, strict=True)
            ],
        )  # fmt: skip
    return channels
