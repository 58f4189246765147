"""Who and where a request comes from, as rows: its tenant, its person (and that the
tenant met them, as one of its own or from another organisation) and the conversation the
bot can post to later.

They are written only when new or changed. `Identities` remembers what this process
wrote, once it is committed, for `MAX_AGE_SECONDS`, so that a repeated request reads them
instead of writing them again: writes are what make commands wait for each other, and
what tell cached replies they are stale. The age limit heals what another process changed
meanwhile. A remembered row is used only if it still is the same platform identity."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TypeVar

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.requests import Request
from storage.changes import on_commit, share_tenant, take_revision
from storage.models import Acquaintance, Conversation, Person, Tenant
from storage.upsert import insert_ignore, upsert

MAX_AGE_SECONDS = 600.0
MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class Known:
    """The remembered tenant and person rows, read together (`Identities.known_ids`); or,
    for a person not remembered, the tenant with the person as stored (`stored`: their
    row and whether the tenant met them as external, each None if it never met them)."""

    tenant: Tenant | None = None
    person: Person | None = None
    stored: tuple[Person | None, bool | None] | None = None

    @property
    def read_person(self) -> Person | None:
        """The person's row as read, remembered or stored."""
        return self.person or (self.stored[0] if self.stored else None)


R = TypeVar("R", Tenant, Person)


async def _row(
    session: AsyncSession, model: type[R], row_id: int | None, read: R | None
) -> R | None:
    """The row `row_id`: the one read already if it is that row, else read now."""
    if row_id is None:
        return None
    if read is not None and read.id == row_id:
        return read
    return await session.get(model, row_id)


@cache
def _tenant_rows() -> Select[tuple[Tenant]]:
    return select(Tenant).where(
        Tenant.platform == bindparam("platform"), Tenant.external_id == bindparam("external_id")
    )


@cache
def _stored_rows() -> Select[tuple[Person, bool]]:
    met = and_(
        Acquaintance.person_id == Person.id, Acquaintance.tenant_id == bindparam("tenant_id")
    )
    return (
        select(Person, Acquaintance.external)
        .join(Acquaintance, met)
        .where(
            Person.platform == bindparam("platform"),
            Person.external_id == bindparam("external_id"),
        )
    )


@cache
def _conversation_ids() -> Select[tuple[int]]:
    return select(Conversation.id).where(
        Conversation.platform == bindparam("platform"),
        Conversation.channel_id == bindparam("channel_id"),
    )


BeforeWrite = Callable[[], Awaitable[None]]


async def _nothing_first() -> None:
    return None


def _person_values(request: Request) -> dict[str, object]:
    actor = request.actor
    return {
        "home_tenant": actor.tenant,
        "display_name": actor.name[:200] or actor.user_id,
    }


class Identities:
    def __init__(self, *, max_age: float = MAX_AGE_SECONDS) -> None:
        self.max_age = max_age
        # key -> (what was written, the row id, when)
        self._written: dict[Hashable, tuple[Hashable, int, float]] = {}

    def _known(self, key: Hashable, values: Hashable) -> int | None:
        seen = self._written.get(key)
        if seen is None or seen[0] != values or time.monotonic() - seen[2] > self.max_age:
            return None
        return seen[1]

    def _remember(
        self, session: AsyncSession, key: Hashable, values: Hashable, row_id: int
    ) -> None:
        """Remember a row once the transaction that wrote it commits (a rolled-back id
        may be given to another row)."""

        def keep() -> None:
            if len(self._written) >= MAX_ENTRIES:
                self._written.clear()
            self._written[key] = (values, row_id, time.monotonic())

        on_commit(session, keep)

    @staticmethod
    def _person_key(request: Request) -> Hashable:
        # Per tenant: meeting the same person in another tenant is another write.
        return ("person", request.actor.platform, request.actor.user_id, request.place.tenant)

    @staticmethod
    def _person_seen(request: Request) -> Hashable:
        values = _person_values(request).values()
        return (*values, request.actor.external, request.actor.timezone)

    @staticmethod
    def _conversation_key(request: Request) -> Hashable:
        return ("conversation", request.place.platform, request.place.channel_id)

    @staticmethod
    def _tenant_key(request: Request) -> Hashable:
        return ("tenant", request.place.platform, request.place.tenant)

    def known_ids(self, request: Request) -> tuple[int, int | None] | None:
        """The ids of the remembered tenant and person (None if only the tenant is
        remembered): the engine reads their rows, or the person as stored, with where
        they ask in one statement (bot.engine.engine), and gives them to `tenant` and
        `person` as `Known`."""
        tenant_id = self._known(self._tenant_key(request), None)
        if tenant_id is None:
            return None
        return tenant_id, self._known(self._person_key(request), self._person_seen(request))

    async def tenant(
        self, session: AsyncSession, request: Request, now: datetime, known: Known | None = None
    ) -> Tenant:
        place = request.place
        key = self._tenant_key(request)
        tenant_id = self._known(key, None)
        tenant = await _row(session, Tenant, tenant_id, known.tenant if known else None)
        if tenant is None or (tenant.platform, tenant.external_id) != key[1:]:
            # Read first: a tenant is new once, and a process meets every tenant anew.
            tenant = await session.scalar(
                _tenant_rows(), {"platform": place.platform, "external_id": place.tenant}
            )
        if tenant is None:
            tenant_id = await upsert(
                session,
                Tenant,
                {"platform": place.platform, "external_id": place.tenant, "created_at": now},
                ["platform", "external_id"],
                update=["platform"],
            )
            tenant = await session.get(Tenant, tenant_id)
            assert tenant is not None
        if tenant.id != tenant_id:
            self._remember(session, key, None, tenant.id)
        return tenant

    async def tenant_taking_revision(
        self, session: AsyncSession, request: Request, now: datetime
    ) -> Tenant:
        """The tenant, its revision taken (storage.changes): a remembered tenant's row
        comes back from taking it, one statement instead of a read and a write."""
        key = self._tenant_key(request)
        tenant_id = self._known(key, None)
        if tenant_id is not None:
            tenant = await take_revision(session, tenant_id)
            if tenant is not None and (tenant.platform, tenant.external_id) == key[1:]:
                return tenant
        tenant = await self.tenant(session, request, now)
        await take_revision(session, tenant.id)
        return tenant

    async def tenant_sharing(self, session: AsyncSession, request: Request) -> Tenant | None:
        """The remembered tenant, shared (storage.changes.share_tenant), or None if this
        process does not know it yet: then the writer takes the tenant's revision."""
        key = self._tenant_key(request)
        tenant_id = self._known(key, None)
        if tenant_id is None:
            return None
        tenant = await share_tenant(session, tenant_id)
        if tenant is None or (tenant.platform, tenant.external_id) != key[1:]:
            return None
        return tenant

    async def person(
        self,
        session: AsyncSession,
        request: Request,
        tenant: Tenant,
        now: datetime,
        known: Known | None = None,
        before_write: BeforeWrite = _nothing_first,
    ) -> tuple[Person, bool]:
        """The person, met in `tenant` as this request says, and whether it was written.
        `before_write` is awaited before anything is written (the engine takes the
        tenant's revision there: one lock order for every command)."""
        actor = request.actor
        key, seen = self._person_key(request), self._person_seen(request)
        person_id = self._known(key, seen)
        person = await _row(session, Person, person_id, known.person if known else None)
        if person is not None and (person.platform, person.external_id) == key[1:3]:
            return person, False
        stored = known.stored if known is not None and known.tenant is tenant else None
        if stored is None:
            stored = await self._read_stored(session, request, tenant)
        person = _as_seen(request, *stored)
        if person is not None:
            # Met before, and nothing about them changed: a read, not a write (a person
            # is forgotten here after MAX_AGE_SECONDS, and every one of a busy
            # workspace's people would otherwise write, in turn, every ten minutes).
            self._remember(session, key, seen, person.id)
            return person, False
        await before_write()
        values = _person_values(request)
        person_id = await upsert(
            session,
            Person,
            {"platform": actor.platform, "external_id": actor.user_id, "created_at": now} | values,
            ["platform", "external_id"],
            update=list(values),
        )
        person = await session.get(Person, person_id)
        assert person is not None
        if actor.timezone and not person.timezone:
            person.timezone = actor.timezone
        await upsert(
            session,
            Acquaintance,
            {
                "person_id": person.id,
                "tenant_id": tenant.id,
                "external": actor.external,
                "met_at": now,
            },
            ["person_id", "tenant_id"],
            update=["external"],
        )
        self._remember(session, key, seen, person.id)
        return person, True

    async def _read_stored(
        self, session: AsyncSession, request: Request, tenant: Tenant
    ) -> tuple[Person | None, bool | None]:
        """The stored person and whether `tenant` met them as external (None, None if it
        never met them)."""
        actor = request.actor
        params = {"platform": actor.platform, "external_id": actor.user_id, "tenant_id": tenant.id}
        row = (await session.execute(_stored_rows(), params)).first()
        return (None, None) if row is None else (row[0], row[1])

    async def conversation(
        self,
        session: AsyncSession,
        request: Request,
        me: Person,
        now: datetime,
        before_write: BeforeWrite = _nothing_first,
    ) -> bool:
        """Keep the places the bot can post to later (a person's DM, a channel); whether
        a new one was written."""
        place = request.place
        key = self._conversation_key(request)
        if self._known(key, None) is not None:
            return False
        stored = await session.scalar(
            _conversation_ids(), {"platform": place.platform, "channel_id": place.channel_id}
        )
        if stored is not None:
            self._remember(session, key, None, 0)
            return False
        await before_write()
        inserted = await insert_ignore(
            session,
            Conversation,
            {
                "platform": place.platform,
                "tenant": place.tenant,
                "channel_id": place.channel_id,
                "kind": place.kind,
                "person_id": me.id if place.kind == "dm" else None,
                "reachable": True,
                "updated_at": now,
            },
            ["platform", "channel_id"],
        )
        self._remember(session, key, None, 0)
        return inserted is not None


def _as_seen(request: Request, person: Person | None, external: bool | None) -> Person | None:
    """The stored person, if their row and how the tenant met them say what this request
    says (nothing to write); else None."""
    if person is None:
        return None
    actor = request.actor
    values = _person_values(request)
    same = all(getattr(person, name) == value for name, value in values.items())
    learns_zone = bool(actor.timezone) and not person.timezone
    return person if same and external == actor.external and not learns_zone else None
