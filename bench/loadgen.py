"""Two ways to load a server.

Closed loop (saturation): a fixed number of clients, each sending its next request as
soon as the last one finished, until a fixed count is done: requests a second.

Open loop (steady offered load): request i is due at start + i / rate whatever happened
to the others. Latency counts from that scheduled time, not from when the request was
actually sent, so a server (or a client) that falls behind shows its queueing in the
tail instead of hiding it (coordinated omission)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# One request: index in, True when its reply arrived and was a success.
Send = Callable[[int], Awaitable[bool]]


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, successes only
    errors: int = 0

    @property
    def per_second(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")


async def _timed(send: Send, index: int, since: float, result: LoadResult) -> None:
    try:
        ok = await send(index)
    except Exception:  # a refused connection or a timeout is an error, not a crash
        ok = False
    if ok:
        result.latencies.append(time.perf_counter() - since)
    else:
        result.errors += 1


async def closed_loop(
    send: Send, *, clients: int, requests: int, seconds: float | None = None
) -> LoadResult:
    """`requests` requests, or (with `seconds`) as many as are begun in that time."""
    result = LoadResult(requests=requests, seconds=0.0)
    next_index = iter(range(requests))
    start = time.perf_counter()
    stop = None if seconds is None else start + seconds

    async def client() -> None:
        for index in next_index:
            if stop is not None and time.perf_counter() >= stop:
                return
            await _timed(send, index, time.perf_counter(), result)

    await asyncio.gather(*(client() for _ in range(clients)))
    result.seconds = time.perf_counter() - start
    if stop is not None:
        result.requests = len(result.latencies) + result.errors
    return result


async def open_loop(send: Send, *, rate: float, seconds: float) -> LoadResult:
    count = int(rate * seconds)
    result = LoadResult(requests=count, seconds=0.0)
    start = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for index in range(count):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_timed(send, index, scheduled, result)))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - start
    return result
