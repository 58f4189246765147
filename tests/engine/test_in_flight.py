"""Work in flight: a shutdown waits for requests being handled, including the part of an
answer that goes on after Slack's acknowledgement."""

from __future__ import annotations

import asyncio

from bot.engine.in_flight import InFlight


async def test_work_started_after_an_acknowledgement_is_in_flight_until_it_ends() -> None:
    in_flight = InFlight()
    release = asyncio.Event()
    done: list[str] = []

    async def answer() -> None:
        await release.wait()
        done.append("posted")

    task = in_flight.start(answer())
    # Counted from the start, before the task first runs: a shutdown beginning now waits.
    assert in_flight.count == 1
    assert not await in_flight.finished(0.05)
    release.set()
    assert await in_flight.finished(1.0)
    assert done == ["posted"] and task.done() and in_flight.count == 0


async def test_a_failed_or_cancelled_task_leaves_the_flight() -> None:
    in_flight = InFlight()

    async def fail() -> None:
        raise RuntimeError("boom")

    async def forever() -> None:
        await asyncio.Event().wait()

    failed, waiting = in_flight.start(fail()), in_flight.start(forever())
    await asyncio.sleep(0)
    waiting.cancel()
    assert await in_flight.finished(1.0)
    assert isinstance(failed.exception(), RuntimeError) and waiting.cancelled()
