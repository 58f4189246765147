"""Benchmarks 1 and 4: command latency over real HTTP, and the serving process's memory.

Four servers run side by side for the whole benchmark: the bare aiohttp handler, the bare
Bolt app, and `liaison serve` on SQLite and on PostgreSQL. Each round runs every case under
both loads, and the rounds rotate the order, so slow drifts of a shared machine hit every
case alike."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bench.databases import fresh_postgres, fresh_sqlite
from bench.loadgen import LoadResult, closed_loop, open_loop
from bench.seed import PROJECT, bulk_seed
from bench.slack_load import FAILURE_MARKS, ResponseUrls, SlashLoad
from tests.fakes.slack_api import FakeSlackApi
from tests.processes import LiaisonProcess, ServerProcess, clean_environment
from tests.slack_requests import SlackSigner, SlackUser

SIGNING_SECRET = "bench-signing-secret-4f1c2a"
BOT_TOKEN = "xoxb-bench-0000-token"
TEAM = "T0001"
PM = SlackUser("UPM", TEAM, "Pat")
CHANNEL = "CBENCHTEAM"


@dataclass(frozen=True)
class Loads:
    clients: int = 32
    # Fixed counts: enough for a stable rate from each kind of server within the budget.
    # `/pm status` gets the bare servers' count: it answers at a similar rate.
    baseline_requests: int = 2000
    liaison_requests: int = 200
    # A read computed afresh: with 200, each client sent about six, and the ramp up and
    # the tail (fewer than 32 clients still busy) took a third of the window.
    uncached_requests: int = 1000
    rate: float = 100.0
    seconds: float = 4.0
    warmup: int = 100


def _saturation_requests(case: Case, loads: Loads) -> int:
    if case.baseline or case.many_requests:
        return loads.baseline_requests
    if case.uncached_floor is not None:
        return loads.uncached_requests
    return loads.liaison_requests


@dataclass
class Case:
    name: str
    server: ServerProcess
    text: Callable[[int], str]
    expect: str | None
    baseline: bool = False
    # Saturated with as many requests as the bare servers (else Liaison's write count).
    many_requests: bool = False
    # A read computed afresh every time (no reply cache): held to this saturated rate
    # instead of the latency targets of what users usually get.
    uncached_floor: float | None = None
    saturation: list[LoadResult] = field(default_factory=list)
    steady: list[LoadResult] = field(default_factory=list)
    sample_reply: str = ""


@dataclass
class LatencyRun:
    cases: list[Case]
    peak_rss_mb: dict[str, float]
    children_rss_mb: dict[str, float]  # of the processes each server started (drawing)
    seeded: dict[str, dict[str, int]]
    loads: Loads


def _baseline(kind: str, api: FakeSlackApi, logs: Path) -> ServerProcess:
    env = {
        **clean_environment(),
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": api.url,
    }
    argv = [sys.executable, "-m", "bench.baselines", kind]
    return ServerProcess(argv, env=env, log_path=logs / f"baseline-{kind}.log")


def _liaison(
    url: str, api: FakeSlackApi, logs: Path, label: str, *, reply_cache: bool = True
) -> LiaisonProcess:
    return LiaisonProcess(
        database_url=url,
        log_path=logs / f"liaison-{label}.log",
        slack_api_url=api.url,
        signing_secret=SIGNING_SECRET,
        bot_token=BOT_TOKEN,
        # The reference server without the cache only reads: the other one schedules.
        scheduler=reply_cache,
        extra_env={
            "LIAISON_LOG_LEVEL": "WARNING",
            "LIAISON_REPLY_CACHE": "on" if reply_cache else "off",
        },
    )


async def open_world(
    stack: AsyncExitStack, workdir: Path, label: str
) -> tuple[FakeSlackApi, ResponseUrls, dict[str, str]]:
    """A fake Slack Web API, a receiver of response_url posts and a fresh database of each
    kind, all closed or dropped with `stack`."""
    api = await stack.enter_async_context(FakeSlackApi())
    receiver = ResponseUrls()
    await receiver.start()
    stack.push_async_callback(receiver.close)
    urls = {
        "SQLite": await fresh_sqlite(workdir, label),
        "PostgreSQL": await stack.enter_async_context(fresh_postgres(label)),
    }
    return api, receiver, urls


def uncached(label: str) -> str:
    return f"{label}, no reply cache"


# Computing a read afresh, on the seeded 500-task project: at least this many a second.
UNCACHED_FLOOR = 300.0
# The reads measured without the cache, each with what every good reply of it contains.
UNCACHED_READS = (
    ("status", "status"),
    ("tasks", "Showing 50 of"),
    ("budget", "Budget of"),
    ("risks", "Risks of"),
)


class Commands:
    """Sends single commands to one server and returns the reply text (seeding, checks)."""

    def __init__(self, http: aiohttp.ClientSession, receiver: ResponseUrls) -> None:
        self.http, self.receiver = http, receiver
        self.signer = SlackSigner(SIGNING_SECRET)

    def load(
        self, server: ServerProcess, text: Callable[[int], str], expect: str | None
    ) -> SlashLoad:
        return SlashLoad(
            self.http, self.signer, server.url, PM, CHANNEL, text, self.receiver, expect=expect
        )

    async def say(self, server: ServerProcess, line: str) -> str:
        load = self.load(server, lambda _: line, None)
        await load(0)
        return load.replies[0] if load.replies else ""


async def seed_liaison(commands: Commands, server: LiaisonProcess, url: str) -> dict[str, int]:
    due = (datetime.now(UTC) + timedelta(days=200)).date().isoformat()
    reply = await commands.say(
        server, f'project new "{PROJECT}" client:"Acme Corp" budget:2000000 due:{due}'
    )
    if "started" not in reply:
        raise RuntimeError(f"could not start the bench project: {reply[:500]}")
    counts = await bulk_seed(url)
    for line in (
        f'task add "Seeded by a command" <@{PM.user_id}> due:{due}',
        'risk add "Seeded by a command" likelihood:high impact:low',
        'spend 1200 "Licences"',
        "status",
    ):
        reply = await commands.say(server, line)
        if any(mark in reply for mark in FAILURE_MARKS):
            raise RuntimeError(f"seeding command failed: {line}: {reply[:300]}")
    return counts


async def run_latency(
    api: FakeSlackApi,
    receiver: ResponseUrls,
    urls: dict[str, str],
    logs: Path,
    *,
    rounds: int,
    loads: Loads,
    progress: Callable[[str], None],
) -> LatencyRun:
    api.add_user(PM.user_id, PM.name, tz="Europe/Berlin")
    api.add_channel(CHANNEL, "bench-team")
    servers: dict[str, ServerProcess] = {
        "aiohttp": _baseline("aiohttp", api, logs),
        "bolt": _baseline("bolt", api, logs),
        **{label: _liaison(url, api, logs, label) for label, url in urls.items()},
        **{
            uncached(label): _liaison(url, api, logs, f"{label}-uncached", reply_cache=False)
            for label, url in urls.items()
        },
    }
    connector = aiohttp.TCPConnector(limit=0)
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            await server.wait_ready()
        async with aiohttp.ClientSession(connector=connector) as http:
            commands = Commands(http, receiver)
            seeded = {}
            for label, url in urls.items():
                progress(f"seeding {label}")
                seeded[label] = await seed_liaison(commands, servers[label], url)  # type: ignore[arg-type]
            cases = _cases(servers, list(urls))
            loads_by_case = {c.name: commands.load(c.server, c.text, c.expect) for c in cases}
            for case in cases:
                progress(f"warming up {case.name}")
                await closed_loop(
                    loads_by_case[case.name], clients=loads.clients, requests=loads.warmup
                )
            for number in range(rounds):
                order = cases[number % len(cases) :] + cases[: number % len(cases)]
                for case in order:
                    progress(f"round {number + 1}/{rounds}: {case.name}")
                    load = loads_by_case[case.name]
                    count = _saturation_requests(case, loads)
                    case.saturation.append(
                        await closed_loop(load, clients=loads.clients, requests=count)
                    )
                    case.steady.append(
                        await open_loop(load, rate=loads.rate, seconds=loads.seconds)
                    )
                    case.sample_reply = load.replies[0] if load.replies else ""
        memory = {label: server.peak_rss_mb() or 0.0 for label, server in servers.items()}
        children = {label: server.children_peak_rss_mb() for label, server in servers.items()}
        return LatencyRun(cases, memory, children, seeded, loads)
    finally:
        for server in servers.values():
            server.stop()


def _cases(servers: dict[str, ServerProcess], liaison_labels: list[str]) -> list[Case]:
    numbers = itertools.count(1)
    due = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    cases = [
        Case("bare aiohttp (200)", servers["aiohttp"], lambda _: "status", "ok", baseline=True),
        Case("bare Bolt (ack)", servers["bolt"], lambda _: "status", "ok", baseline=True),
    ]
    for label in liaison_labels:
        cases.append(
            Case(
                f"{label}: /pm status",
                servers[label],
                lambda _: "status",
                "status",
                many_requests=True,
            )
        )
        cases += [
            Case(
                f"{uncached(label)}: /pm {line}",
                servers[uncached(label)],
                lambda _, line=line: line,
                expect,
                uncached_floor=UNCACHED_FLOOR,
            )
            for line, expect in UNCACHED_READS
        ]
        cases.append(
            Case(
                f"{label}: /pm task add",
                servers[label],
                lambda _: f'task add "Load task {next(numbers)}" <@{PM.user_id}> due:{due}',
                "Load task",
            )
        )
    return cases
