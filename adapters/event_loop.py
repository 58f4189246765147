"""The event loop `liaison serve` runs on: uvloop's where it is installed (it is a
dependency everywhere but Windows, which it does not support), else asyncio's own.

Every request sends a few statements to the database and a reply back, each a socket
write and a wake-up of the loop; uvloop does that work in C. In the mixed workload on
PostgreSQL (bench/) the serving process spent 6% less time a request with it (1.62 ->
1.52 ms), where a bare Bolt app, which does one read and one write a request, gained 1%.
The benchmark's bare servers run on the same loop (bench/baselines.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:  # Windows, or an install without it
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the loop of `loop_factory`."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
