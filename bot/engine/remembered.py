"""Who asks and where, remembered for a read-only command asked again (issue 19).

Every command reads its tenant and person with the channel's link, its project and the
asker's membership (one statement, bot.engine.engine `_who_and_where`) before it reads
what its reply shows: half of a status's statements. A reader asked in a linked channel
keeps those rows here, and the next read-only command from the same person in the same
channel uses them instead of reading them again, while nothing they were read from
changed. That is the reply cache's
rule (bot.engine.reply_cache): the rows are as current as a reply it would give, never
older than the last write this process made or heard of, and at most MAX_AGE_SECONDS
old for what no notice tells (a write from outside Liaison's engine). Every change to
these rows is a change to the whole tenant (storage.changes.WHO_AND_WHERE: who is on
which project, which channel is whose, a person, a project's own row); a change to a
project's content (a task added, time logged) is not, and keeps them: in a busy
workspace every project changes every few seconds, and the next read there would read
them again.

A writer decides on the newest rows. A writer of the whole tenant reads them afresh once
it has taken the tenant's revision. A writer of one project's content holds the tenant
shared, which no change to the tenant as a whole can take meanwhile, and reads the
tenant's row with it: the rows kept here are used only if they were read at the revision
it has now (`recall_at`). Every such change takes a revision, so none can commit while it
holds the tenant; one that committed while it waited for the tenant (its row is as of
before the wait) is found by its project's turn, which reads the revision anew, and the
writer runs again (bot.engine.engine `KeptOutOfDate`). Either keeps them too, once it commits: a
change of its project's content leaves them current for the person's next read, and a
change to the tenant as a whole (a person, who is on which project) makes them stale at
once."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.reply_cache import MAX_AGE_SECONDS, Generation, Generations
from bot.requests import Request
from storage.changes import on_commit
from storage.models import ChannelLink, Membership, Person, Project, Tenant
from storage.reads import attached_copy, wholly_loaded

MAX_PLACES = 10_000


@dataclass(frozen=True, slots=True)
class Place:
    """The rows a command reads about who asks and where (detached: each use merges them
    into its own session)."""

    tenant: Tenant
    me: Person
    link: ChannelLink
    project: Project | None
    membership: Membership | None


@dataclass(frozen=True, slots=True)
class _Kept:
    place: Place
    tenant: str  # as change notices name it
    generation: Generation  # taken before the rows were read
    kept_at: float


class RememberedPlaces:
    def __init__(self, generations: Generations, *, max_age: float = MAX_AGE_SECONDS) -> None:
        self.generations = generations
        self.max_age = max_age
        self._kept: OrderedDict[Hashable, _Kept] = OrderedDict()

    @staticmethod
    def _key(request: Request) -> Hashable:
        """The whole of who asks and where as the platform tells it: a person whose name,
        zone or side changed is read (and written) afresh."""
        actor, place = request.actor, request.place
        return (
            place.platform, place.tenant, place.channel_id, place.shared_externally,
            actor.user_id, actor.tenant, actor.name, actor.timezone, actor.external,
        )  # fmt: skip

    def peek(self, request: Request, tenant: str) -> Place | None:
        """The rows kept for this request's person and channel, detached, if they are
        still current; else None."""
        key = self._key(request)
        kept = self._kept.get(key)
        if kept is None:
            return None
        # Only a change to the tenant as a whole changes these rows (see the module's note).
        current = self.generations.current(
            kept.generation, kept.tenant, frozenset(), kept.kept_at, self.max_age
        )
        if not (current and kept.tenant == tenant):
            del self._kept[key]
            return None
        self._kept.move_to_end(key)
        return kept.place

    def recall(self, session: AsyncSession, request: Request, tenant: str) -> Place | None:
        """The rows kept for this request's person and channel, copied into `session`
        without reading them, if they are still current; else None."""
        place = self.peek(request, tenant)
        return None if place is None else _copied(session, place)

    def recall_at(
        self, session: AsyncSession, request: Request, tenant: str, now_read: Tenant
    ) -> Place | None:
        """As `recall`, for a writer holding its tenant shared, whose row `now_read` came
        with that turn: only rows read at the revision the tenant has now."""
        place = self.peek(request, tenant)
        if place is None or not wholly_loaded(place.tenant):
            return None
        if (place.tenant.id, place.tenant.revision) != (now_read.id, now_read.revision):
            return None
        return _copied(session, place)

    def keep(
        self,
        session: AsyncSession,
        request: Request,
        tenant: str,
        generation: Generation,
        place: Place,
    ) -> None:
        """Keep `place`, read after `generation`, once the transaction that read it commits
        (a reader that fails keeps nothing)."""
        key = self._key(request)

        def kept() -> None:
            self._kept[key] = _Kept(place, tenant, generation, time.monotonic())
            self._kept.move_to_end(key)
            while len(self._kept) > MAX_PLACES:
                self._kept.popitem(last=False)

        on_commit(session, kept)


def _copied(session: AsyncSession, place: Place) -> Place | None:
    """`place`'s rows copied into `session`, or None if one of them is not wholly loaded
    (then they are read afresh)."""
    rows = (place.tenant, place.me, place.link, place.project, place.membership)
    if not all(row is None or wholly_loaded(row) for row in rows):
        return None
    return Place(*[None if row is None else attached_copy(session, row) for row in rows])
