"""Pacing posts per channel within each platform's limits, with an injectable clock and
sleep so tests never wait for real."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Messages a second into one channel: Slack allows about one, Teams seven per conversation.
DEFAULT_RATES: dict[str, float] = {"slack": 1.0, "teams": 7.0, "msteams": 7.0}


class Pacer:
    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.monotonic = monotonic
        self.sleep = sleep
        self._next_free: dict[tuple[str, str], float] = {}

    async def wait(self, channel: tuple[str, str], per_second: float | None) -> None:
        """Wait for `channel`'s next free slot. The slot is reserved before sleeping, so
        concurrent callers for one channel queue up instead of bursting."""
        if not per_second:
            return
        now = self.monotonic()
        start = max(now, self._next_free.get(channel, now))
        self._next_free[channel] = start + 1 / per_second
        if start > now:
            await self.sleep(start - now)
        if len(self._next_free) > 10_000:
            self._forget_idle(self.monotonic())

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, free in self._next_free.items() if free < now]:
            del self._next_free[key]
