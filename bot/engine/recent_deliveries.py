"""Delivery ids of read-only commands answered inline, remembered in this process.

A write records its delivery id in the database (processed_events), in its transaction, so
a platform's retry is recognised by any process. A read-only command answered in the
acknowledgement writes nothing, and recording its id would make every read a write (on
SQLite, a turn behind the one writer): its id is remembered here instead, for as long as
a signed request can be replayed (Slack refuses a signature older than five minutes)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

REPLAYABLE_SECONDS = 5 * 60 + 30  # Slack's five minutes, and clocks a little apart
MOST = 20_000  # ids kept at most: a burst beyond it forgets the oldest first


class RecentDeliveries:
    def __init__(
        self,
        *,
        keep_seconds: float = REPLAYABLE_SECONDS,
        most: int = MOST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seen: OrderedDict[Hashable, float] = OrderedDict()
        self._keep, self._most, self._clock = keep_seconds, most, clock

    def first(self, delivery: Hashable) -> bool:
        """True the first time `delivery` is seen within the window, False for a repeat."""
        now = self._clock()
        self._forget_before(now - self._keep)
        if delivery in self._seen:
            return False
        self._seen[delivery] = now
        if len(self._seen) > self._most:
            self._seen.popitem(last=False)
        return True

    def forget(self, delivery: Hashable) -> None:
        """`delivery` was not answered after all: a repeat of it is a first."""
        self._seen.pop(delivery, None)

    def _forget_before(self, moment: float) -> None:
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if seen_at >= moment:
                return
            del self._seen[oldest]
