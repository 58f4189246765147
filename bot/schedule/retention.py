"""Retention: what the bot only needs for a while is deleted, so no table grows forever.

Processed-event ids only guard against a platform's retries (Slack retries for minutes,
the Bot Framework for less), so a day is plenty. Sent and failed outbox rows are history
that `outbox failed` shows until `LIAISON_RETENTION_DAYS` is up. Occurrence claims are
never deleted here: they are what makes each scheduled post happen once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from storage.models import Delivery, ProcessedEvent

PROCESSED_EVENTS_KEPT = timedelta(days=1)
DELIVERIES_KEPT = timedelta(days=90)
FINISHED = ("sent", "failed")


@dataclass(frozen=True, slots=True)
class Pruned:
    processed_events: int
    deliveries: int

    def __str__(self) -> str:
        return f"{self.processed_events} processed events, {self.deliveries} deliveries"


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    keep_deliveries: timedelta = DELIVERIES_KEPT,
) -> Pruned:
    """Delete old processed-event ids and old finished deliveries: two statements in one
    transaction, whatever the number of rows."""
    async with sessions() as session, session.begin():
        events = await session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < now - PROCESSED_EVENTS_KEPT)
        )
        deliveries = await session.execute(
            delete(Delivery)
            .where(_finished_before(Delivery, now - keep_deliveries))
            .where(~_has_reply_kept(now - keep_deliveries))
            .execution_options(synchronize_session=False)
        )
    return Pruned(events.rowcount or 0, deliveries.rowcount or 0)


def _finished_before(row: type[Delivery], cutoff: datetime) -> ColumnElement[bool]:
    # `next_attempt_at` is when a finished row was last tried, and (status, next_attempt_at)
    # is already indexed for the worker: the delete reads only the rows it removes.
    return and_(row.status.in_(FINISHED), row.next_attempt_at < cutoff)


def _has_reply_kept(cutoff: datetime) -> ColumnElement[bool]:
    """A reply threaded under a row keeps its parent (the foreign key) until it goes too."""
    reply = aliased(Delivery)
    return exists().where(reply.thread_of == Delivery.id, ~_finished_before(reply, cutoff))
