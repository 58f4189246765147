"""The words delivery is spoken in: where a message goes (`Target`), what a post returned
(`Sent`, `DeliveryError`), what each platform implements (`Deliverer`), the outbox row a
worker holds (`Job`) and the parts of the worker that recording a result needs (`Worker`).
Every module of the room, and every adapter, imports these from here, so the outbox, the
workers and the result recording need not import each other in a circle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.messages import Message

LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class Target:
    platform: str
    tenant: str
    channel_id: str
    kind: str  # channel | dm


@dataclass(frozen=True, slots=True)
class Sent:
    """A successful post; `message_id` lets later posts thread under it."""

    message_id: str | None = None


class DeliveryError(Exception):
    """A failed post. `retry_after` (seconds) when the platform said when to come back;
    `permanent` when retrying cannot help; `unreachable` when the bot was removed from the
    conversation or it is gone (the outbox then marks it and tells the project's PM)."""

    def __init__(
        self,
        reason: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent or unreachable
        self.unreachable = unreachable


class Deliverer(Protocol):
    """Implemented by each platform adapter; the composition root hands them to the outbox.
    An optional `per_second` attribute overrides the platform's pacing per channel."""

    platform: str

    async def deliver(
        self, target: Target, message: Message, *, thread_id: str | None = None
    ) -> Sent: ...

    async def update(self, target: Target, message: Message, *, message_id: str) -> Sent:
        """Replace the message posted as `message_id` in `target` with `message`."""
        ...


@dataclass
class Job:
    """One outbox row a worker has leased and is delivering."""

    id: int
    project_id: int | None
    target: Target
    message: dict[str, Any]
    thread_of: int | None
    attempts: int
    lease_until: datetime
    operation: str = "post"  # or "update": replace the message of the row it points at


class Worker(Protocol):
    """What recording a result needs from the worker that made the attempt
    (`bot.delivery.workers.OutboxWorker`)."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    max_attempts: int

    def backoff(self, attempts: int) -> float: ...
