"""Benchmark 3: delivery throughput. 5,000 outbox rows over 1,000 channels, delivered by
`liaison serve`'s own outbox worker (a real subprocess, Slack deliverer) to a local fake
Slack API with 20 ms latency that allows one message a second a channel and answers 429
with Retry-After otherwise. Measured: messages a second (from the commit of the rows to
the last message Slack accepted), 429s, duplicates and losses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.databases import fresh_postgres, fresh_sqlite
from bench.rate_limited_slack import RateLimitedSlack
from bench.report import median, table
from bot.delivery.outbox import delivery_values
from bot.delivery.vocabulary import Target
from bot.messages import Message, Text
from storage.db import create_engine, session_factory
from storage.models import Delivery
from tests.processes import LiaisonProcess

SIGNING_SECRET = "bench-signing-secret-delivery"
# A round slower than this (seconds) is not repeated: the time budget of `make bench`.
REPEAT_LIMIT = 35.0
BOT_TOKEN = "xoxb-bench-delivery-token"


@dataclass
class DeliveryCase:
    backend: str
    seconds: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    losses: list[int] = field(default_factory=list)
    limited: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


async def _enqueue(url: str, first: int, count: int, channels: int) -> None:
    now = datetime.now(UTC)
    rows = [
        delivery_values(
            project_id=None,
            target=Target("slack", "T0001", f"CDELIV{n % channels:05d}", "channel"),
            message=Message(blocks=(Text(f"Update bench-msg-{n}"),), audience="internal"),
            now=now,
        )
        for n in range(first, first + count)
    ]
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(insert(Delivery.__table__), rows)
    finally:
        await engine.dispose()


async def _wait_until_done(url: str, timeout: float) -> int:
    """Until no row is pending or sending; returns how many ended `failed`."""
    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            async with engine.connect() as connection:
                open_rows = await connection.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(Delivery.status.in_(("pending", "sending")))
                )
                if not open_rows:
                    return int(
                        await connection.scalar(
                            select(func.count())
                            .select_from(Delivery)
                            .where(Delivery.status == "failed")
                        )
                        or 0
                    )
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
    raise TimeoutError(f"deliveries still open after {timeout}s")


async def one_round(
    server: LiaisonProcess, slack: RateLimitedSlack, url: str, first: int, count: int, channels: int
) -> tuple[float, int, int, int, int]:
    slack.reset()
    started = time.monotonic()
    await _enqueue(url, first, count, channels)
    failed = await _wait_until_done(url, timeout=300)
    last = slack.last_accepted or time.monotonic()
    seconds = last - started
    return (
        seconds,
        slack.duplicates,
        slack.losses(range(first, first + count)),
        slack.limited,
        failed,
    )


async def run_delivery(
    workdir: Path, *, rounds: int, quick: bool, progress: Callable[[str], None]
) -> tuple[str, str, list[str]]:
    count, channels = (1000, 200) if quick else (5000, 1000)
    cases: list[DeliveryCase] = []
    async with AsyncExitStack() as stack:
        slack = await stack.enter_async_context(RateLimitedSlack(latency=0.020))
        urls = {
            "SQLite": await fresh_sqlite(workdir, "delivery"),
            "PostgreSQL": await stack.enter_async_context(fresh_postgres("delivery")),
        }
        servers = {}
        for backend, url in urls.items():
            server = LiaisonProcess(
                database_url=url,
                log_path=workdir / f"delivery-{backend}.log",
                slack_api_url=slack.url,
                signing_secret=SIGNING_SECRET,
                bot_token=BOT_TOKEN,
                scheduler=True,
                extra_env={"LIAISON_LOG_LEVEL": "WARNING"},
            )
            stack.callback(server.stop)
            servers[backend] = server.start()
            cases.append(DeliveryCase(backend))
        for server in servers.values():
            await server.wait_ready()
        first = 0
        for number in range(rounds):
            for case in cases:
                if number and case.seconds[0] > REPEAT_LIMIT:
                    continue
                progress(f"delivery round {number + 1}/{rounds}: {case.backend}")
                await asyncio.sleep(1.1)  # every channel's one-second window is free again
                result = await one_round(
                    servers[case.backend], slack, urls[case.backend], first, count, channels
                )
                first += count
                seconds, duplicates, losses, limited, failed = result
                case.seconds.append(seconds)
                case.rates.append(count / seconds)
                case.duplicates.append(duplicates)
                case.losses.append(losses)
                case.limited.append(limited)
                case.failed.append(failed)
    title = "3. Delivery throughput"
    return title, _section(cases, count, channels), _verdicts(cases)


def _section(cases: list[DeliveryCase], count: int, channels: int) -> str:
    rows = [
        [
            c.backend,
            f"{median(c.rates):.0f}",
            ", ".join(f"{r:.0f}" for r in c.rates),
            f"{median(c.seconds):.1f}",
            str(sum(c.duplicates)),
            str(sum(c.losses)),
            str(sum(c.failed)),
            str(sum(c.limited)),
        ]
        for c in cases
    ]
    return (
        f"{count:,} outbox rows over {channels:,} channels (committed at once), delivered by "
        "`liaison serve`'s outbox worker through the Slack deliverer to a fake Slack Web API: "
        "20 ms a call, one message a second a channel, 429 with Retry-After beyond that. "
        "Time runs from the commit to the last message the fake accepted. A round slower "
        f"than {REPEAT_LIMIT:.0f} s is not repeated (the time budget of `make bench`).\n\n"
        + table(
            [
                "backend",
                "messages/s (median)",
                "rounds",
                "seconds",
                "duplicates",
                "losses",
                "failed rows",
                "429s",
            ],
            rows,
        )
        + "\n"
    )


def _verdicts(cases: list[DeliveryCase]) -> list[str]:
    verdicts = []
    for c in cases:
        rate = median(c.rates)
        clean = sum(c.duplicates) == 0 and sum(c.losses) == 0
        verdicts.append(
            f"- {'met' if rate >= 200 else 'MISSED'}: delivery on {c.backend}, "
            f"{rate:.0f} messages/s >= 200"
        )
        verdicts.append(
            f"- {'met' if clean else 'MISSED'}: delivery on {c.backend}, "
            f"{sum(c.duplicates)} duplicates and {sum(c.losses)} losses"
        )
    return verdicts
