"""Answers to repeated read-only commands without touching the database.

A command registered with `cached=True` depends only on the stored data, the request and
the day. Its reply is kept under the whole request (text, who, where) and the UTC quarter
hour: every time zone's offset is a whole number of quarter hours, so within one every
local date is fixed. A kept reply is used only while what it was read from is unchanged:
its project (or each of the asker's projects, for a reply that spans them) and whatever
matters to the whole tenant (people, who is on which project, which channel is whose).
`Generations` numbers the changes this process made or heard about (storage.listen).

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

# (epoch, changes heard): taken before reading, it tells which changes a reply may miss.
Generation = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ReadFrom:
    """What a reply about some projects was read from: a change to the content of one of
    `projects` makes it stale if it wrote one of `tables` (None: any change to them)."""

    projects: frozenset[int]
    tables: frozenset[str] | None = None


# What a reply was read from, which decides the changes that make it stale: False, keep it
# not at all; True, any change to its tenant; a set of project ids, any change to one of
# those projects; ReadFrom, a change to those projects' tables it read. A change to the
# tenant as a whole (its people, who is on which project, where) makes any of them stale.
Keep = bool | frozenset[int] | ReadFrom
ANY_PROJECT = "*"  # in a notice: a change that may matter to the whole tenant
ANY_TABLE = "*"  # a change to a project's content in tables not known
# Scopes remembered before starting afresh (a few per project: its tables written).
MAX_SCOPES = 50_000


def tenant_key(platform: str, tenant: str) -> str:
    """How a tenant is named in change notices between processes."""
    return f"{platform}:{tenant}"


class Generations:
    """Which data changed when, as far as this process knows: each change it made or heard
    of gets the next number, and each tenant, tenant's projects and project remembers the
    number of its last change. A reply read after number N is current while nothing it
    was read from changed after N.

    `trusted` is false while changes may go unheard (a PostgreSQL listener not connected);
    then nothing may be answered from what was kept."""

    def __init__(self, *, trusted: bool = True) -> None:
        self.trusted = trusted
        self._epoch = 0
        self._heard = 0
        self._last: dict[str, int] = {}
        # Names this process in its notices, so that it does not count its own twice.
        self.origin = uuid.uuid4().hex[:12]

    def notice(
        self,
        tenant: str,
        projects: frozenset[int] | None = None,
        tables: frozenset[str] | None = None,
    ) -> str:
        """What to tell the other processes when `tenant`'s data changed: the content of
        `projects` only (in `tables`, or None: any), or (None) anything."""
        return f"{self.origin} {tenant} {_scopes(projects, tables)}"

    def heard(self, notice: str) -> None:
        """Another process says a tenant's data changed."""
        origin, _, rest = notice.partition(" ")
        if origin == self.origin:
            return
        tenant, _, scopes = rest.rpartition(" ")
        if not tenant:  # a notice that names no projects: the tenant as a whole
            tenant, scopes = scopes, ANY_PROJECT
        self.changed(tenant, *_projects(scopes))

    def of(self, tenant: str) -> Generation:
        """Changes (of any kind) to `tenant` as far as known: equal twice, none in between."""
        return self._epoch, self._last.get(_anything_in(tenant), 0)

    def now(self) -> Generation:
        """The changes known so far: take it before reading what a reply shows."""
        return self._epoch, self._heard

    def unchanged(self, since: Generation, tenant: str, keep: Keep) -> bool:
        """Whether nothing a reply about `keep` in `tenant` was read from changed after `since`."""
        epoch, heard = since
        if epoch != self._epoch or keep is False:
            return False
        return all(self._last.get(scope, 0) <= heard for scope in _read_scopes(tenant, keep))

    def current(
        self, since: Generation, tenant: str, keep: Keep, kept_at: float, max_age: float
    ) -> bool:
        """Whether what was read after `since` (at `kept_at`, time.monotonic) about `keep`
        may still be used: changes are heard, none it was read from came since, and it is
        younger than `max_age`, the bound for what no notice tells."""
        fresh = time.monotonic() - kept_at < max_age
        return fresh and self.trusted and self.unchanged(since, tenant, keep)

    def changed(
        self,
        tenant: str,
        projects: frozenset[int] | None = None,
        tables: frozenset[str] | None = None,
    ) -> None:
        """`tenant`'s data changed: the content of `projects` only (in `tables`, or None:
        any), or (None) anything."""
        self._heard += 1
        projects = projects or None  # a change to no project in particular: anything
        self._last[_anything_in(tenant)] = self._heard
        for scope in _written_scopes(tenant, projects, tables):
            self._last[scope] = self._heard
        if len(self._last) > MAX_SCOPES:
            self._forget()  # rather than grow without end

    def lost_track(self) -> None:
        self.trusted = False
        self._forget()

    def _forget(self) -> None:
        """Start afresh: nothing kept before counts as current."""
        self._epoch += 1
        self._last.clear()

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
        self._forget()
        self.trusted = True


def _anything_in(tenant: str) -> str:
    return f"{tenant} {ANY_PROJECT}"


def _project(project_id: int, table: str | None = None) -> str:
    """A project's scope: any change to its content, or (`table`) to that table of it
    (ANY_TABLE: to tables not known)."""
    return f"project {project_id}" if table is None else f"project {project_id} {table}"


def _written_scopes(
    tenant: str, projects: frozenset[int] | None, tables: frozenset[str] | None
) -> list[str]:
    # Project ids are the database's own, unique across tenants: a project linked into
    # another tenant's channel is the same project there.
    if projects is None:
        return [tenant]
    written = sorted(tables) if tables else [ANY_TABLE]
    return [scope for p in projects for scope in (_project(p), *(_project(p, t) for t in written))]


def _read_scopes(tenant: str, keep: Keep) -> list[str]:
    if keep is True:
        return [_anything_in(tenant)]
    if isinstance(keep, frozenset):
        keep = ReadFrom(keep)
    assert isinstance(keep, ReadFrom)
    if keep.tables is None:
        return [tenant, *map(_project, keep.projects)]
    read = [ANY_TABLE, *keep.tables]
    return [tenant, *(_project(p, t) for p in keep.projects for t in read)]


def _scopes(projects: frozenset[int] | None, tables: frozenset[str] | None = None) -> str:
    # A notice is at most 8,000 bytes: many projects at once count as the whole tenant.
    if projects is None or not projects or len(projects) > 100:
        return ANY_PROJECT
    named = ",".join(map(str, sorted(projects)))
    # Table names are words: they need no quoting, and they never hold "/" nor "+".
    return f"{named}/{'+'.join(sorted(tables))}" if tables else named


def _projects(scopes: str) -> tuple[frozenset[int] | None, frozenset[str] | None]:
    """The projects and tables a notice's scopes name (an older process's name no tables:
    any of them)."""
    if scopes == ANY_PROJECT:
        return None, None
    named, _, tables = scopes.partition("/")
    try:
        projects = frozenset(int(p) for p in named.split(","))
    except ValueError:  # not ours to read: count it as anything
        return None, None
    return projects, (frozenset(tables.split("+")) - {""} if tables else None)


Compute = Callable[[], Awaitable[tuple[Reply, Keep]]]


@dataclass(frozen=True, slots=True)
class _Flight:
    """A reply being computed, from data as of `generation`, that others may wait for."""

    generation: Generation
    done: asyncio.Future[tuple[Reply, Keep]]


@dataclass(frozen=True, slots=True)
class _Kept:
    reply: Reply
    tenant: str
    keep: Keep  # what it was read from
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
        data (a burst of identical requests computes once); else `compute()`'s, kept as
        it says (what it was read from; not at all if it changed data, say)."""
        kept = self.get(key, tenant)
        if kept is not None:
            self.on_hit()
            return kept
        generation = self.generations.now()  # before reading: see put
        flight = self._flights.get(key)
        # What the flight reads is known when it is done: until then any change to the
        # tenant since it started may be one it missed.
        if flight is not None and self.generations.unchanged(flight.generation, tenant, True):
            try:
                reply, keep = await asyncio.shield(flight.done)
                if keep is not False:
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
        if keep is not False:
            self.put(key, generation, reply, tenant, keep)
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
        current = self.generations.current(
            kept.generation, kept.tenant, kept.keep, kept.kept_at, self.max_age
        )
        if not (current and kept.tenant == tenant):
            del self._kept[key]
            return None
        return kept.reply

    def put(
        self, key: Hashable, generation: Generation, reply: Reply, tenant: str, keep: Keep = True
    ) -> None:
        """Keep `reply`, computed from data as of `generation` (taken before reading)
        about what `keep` says."""
        if not self.generations.trusted or keep is False:
            return
        self._kept[key] = _Kept(reply, tenant, keep, generation, time.monotonic())
        self._kept.move_to_end(key)
        while len(self._kept) > self.max_entries:
            self._kept.popitem(last=False)
