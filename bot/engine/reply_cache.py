"""Answers to repeated read-only commands without touching the database.

A command registered with `cached=True` depends only on the stored data, the request and
the day. Its reply is kept under the whole request (text, who, where) and the UTC quarter
hour: every time zone's offset is a whole number of quarter hours, so within one every
local date is fixed. A kept reply is used only while its tenant's data is unchanged:
`Generations` counts the changes this process made or heard about (storage.listen).

What is known about changes can lag only where nothing tells us about them: a write from
outside Liaison's engine, or from another process on SQLite (one process owns an SQLite
database; see the README). MAX_AGE bounds that lag."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from bot.messages import Reply
from bot.requests import Request
from storage.changes import CHANGES_CHANNEL
from storage.listen import ChangeListener

MAX_AGE_SECONDS = 10.0
MAX_ENTRIES = 10_000
QUARTER_HOUR = 15 * 60

Generation = tuple[int, int]


def tenant_key(platform: str, tenant: str) -> str:
    """How a tenant is named in change notices between processes."""
    return f"{platform}:{tenant}"


class Generations:
    """How often each tenant's data changed, as far as this process knows.

    `trusted` is false while changes may go unheard (a PostgreSQL listener not connected);
    then nothing may be answered from what was kept."""

    def __init__(self, *, trusted: bool = True) -> None:
        self.trusted = trusted
        self._epoch = 0
        self._counts: dict[str, int] = {}
        # Names this process in its notices, so that it does not count its own twice.
        self.origin = uuid.uuid4().hex[:12]

    def notice(self, tenant: str) -> str:
        """What to tell the other processes when `tenant`'s data changed."""
        return f"{self.origin} {tenant}"

    def heard(self, notice: str) -> None:
        """Another process says a tenant's data changed."""
        origin, _, tenant = notice.partition(" ")
        if origin != self.origin:
            self.changed(tenant)

    def of(self, tenant: str) -> Generation:
        return self._epoch, self._counts.get(tenant, 0)

    def changed(self, tenant: str) -> None:
        self._counts[tenant] = self._counts.get(tenant, 0) + 1

    def lost_track(self) -> None:
        self.trusted = False
        self._epoch += 1

    def listen(self, database_url: str) -> ChangeListener:
        """Hear the other processes' changes on PostgreSQL: a started listener that
        keeps these counts, and `trusted`, up to date."""
        listener = ChangeListener(
            database_url,
            CHANGES_CHANNEL,
            on_change=self.heard,
            on_gap=self.lost_track,
            on_listening=self.back_on_track,
        )
        listener.start()
        return listener

    def back_on_track(self) -> None:
        # Whatever was kept before is from a time when changes may have gone unheard.
        self._epoch += 1
        self.trusted = True


Compute = Callable[[], Awaitable[tuple[Reply, bool]]]


@dataclass(frozen=True, slots=True)
class _Flight:
    """A reply being computed, from data as of `generation`, that others may wait for."""

    generation: Generation
    done: asyncio.Future[tuple[Reply, bool]]


@dataclass(frozen=True, slots=True)
class _Kept:
    reply: Reply
    generation: Generation
    kept_at: float


class ReplyCache:
    def __init__(
        self,
        generations: Generations,
        *,
        max_entries: int = MAX_ENTRIES,
        max_age: float = MAX_AGE_SECONDS,
        on_hit: Callable[[], None] = lambda: None,
    ) -> None:
        self.generations = generations
        self.on_hit = on_hit
        self.max_entries = max_entries
        self.max_age = max_age
        self._kept: OrderedDict[Hashable, _Kept] = OrderedDict()
        self._flights: dict[Hashable, _Flight] = {}

    async def answer(self, key: Hashable, tenant: str, compute: Compute) -> Reply:
        """The kept reply; else the one being computed for the same request from the same
        data (a burst of identical requests computes once); else `compute()`'s, kept if
        it says so (it changed no data, say)."""
        kept = self.get(key, tenant)
        if kept is not None:
            self.on_hit()
            return kept
        generation = self.generations.of(tenant)  # before reading: see put
        flight = self._flights.get(key)
        if flight is not None and flight.generation == generation:
            try:
                reply, keep = await asyncio.shield(flight.done)
                if keep:
                    self.on_hit()
                    return reply
                # That reply was for its own request only (a platform's retry, say).
            except asyncio.CancelledError:
                if not flight.done.cancelled():
                    raise  # this request itself was cancelled
            return (await compute())[0]  # for this request alone
        flight = _Flight(generation, asyncio.get_running_loop().create_future())
        self._flights[key] = flight
        try:
            reply, keep = await compute()
        except asyncio.CancelledError:
            flight.done.cancel()
            raise
        except Exception as error:
            flight.done.set_exception(error)
            flight.done.exception()  # waiters, if any, re-raise it; none is fine too
            raise
        except BaseException:  # the process is exiting: no waiter may wait forever
            flight.done.cancel()
            raise
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]
        if keep:
            self.put(key, generation, reply)
        flight.done.set_result((reply, keep))
        return reply

    @staticmethod
    def key(text: str, request: Request, now: datetime) -> Hashable:
        quarter = int(now.timestamp()) // QUARTER_HOUR
        return text, request.actor, request.place, quarter

    def get(self, key: Hashable, tenant: str) -> Reply | None:
        kept = self._kept.get(key)
        if kept is None:
            return None
        fresh = time.monotonic() - kept.kept_at < self.max_age
        if not (
            fresh and self.generations.trusted and kept.generation == self.generations.of(tenant)
        ):
            del self._kept[key]
            return None
        return kept.reply

    def put(self, key: Hashable, generation: Generation, reply: Reply) -> None:
        """Keep `reply`, computed from data as of `generation` (taken before reading)."""
        if not self.generations.trusted:
            return
        self._kept[key] = _Kept(reply, generation, time.monotonic())
        self._kept.move_to_end(key)
        while len(self._kept) > self.max_entries:
            self._kept.popitem(last=False)
