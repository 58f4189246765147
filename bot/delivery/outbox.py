"""The outbox: messages for other places are written as rows in the same transaction as the
change (or the occurrence claim) that caused them, and delivered afterwards by the
workers of `bot.delivery.workers` through each platform's Deliverer.

Delivery semantics, and why:
- A row exists exactly when its cause committed: writing is exactly-once.
- A worker takes due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers in several
  processes never take the same row; SQLite serves one process, so a plain select does),
  marks them `sending` with a lease, and commits
  before calling the platform. Nobody else touches a row while its lease runs, and a
  worker never starts a call that could outlast its lease: it gives the row back instead.
- Each result is committed right after its call. A row recorded `sent` is never sent again.
- The one unknowable case: the process dies after the platform accepted a post and before
  `sent` was committed. Slack and Bot Framework take no idempotency key for posts, so no
  design can tell whether it went out. When that row's lease expires it is sent again
  (logged as a re-send): at-least-once for the single message in flight per channel at
  the crash, rather than at-most-once, because a lost check-in or reminder costs more
  than a rare duplicate. Everything else is delivered exactly once.
- Editing a posted message (a late huddle answer updates the digest) is a row too, with
  operation `update` and `thread_of` naming the row whose message it edits: it waits for
  that row to be sent, goes through the same claims, retries and pacing, and fails for good
  when that row failed (there is nothing to edit).
- Retries: 429 waits its Retry-After; 5xx, timeouts and dropped connections back off
  exponentially; after `max_attempts` the row is `failed` (see `outbox failed`). An
  `unreachable` error fails the row at once, marks the conversation unreachable, fails
  what else waits for that place, and tells the project's PM.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.vocabulary import Target
from bot.domain.schedule import Teammate
from bot.messages import Message, message_to_dict
from storage.models import Conversation, Delivery, Person, SerialisedJSON

# An outbox row as the due-step writes many (`outbox_record`): these values differ from row
# to row, `new_row` gives the rest.
OUTBOX_COLUMNS = (
    "project_id",
    "platform",
    "tenant",
    "channel_id",
    "target_kind",
    "audience",
    "message",
    "occurrence_key",
    "thread_of",
)


def outbox_record(
    project_id: int | None,
    target: Target,
    audience: str,
    message: SerialisedJSON | dict[str, Any],
    occurrence_key: str | None = None,
    thread_of: int | None = None,
) -> tuple[Any, ...]:
    """An outbox row's own values, in the order of `OUTBOX_COLUMNS`."""
    return (
        project_id,
        target.platform,
        target.tenant,
        target.channel_id,
        target.kind,
        audience,
        message,
        occurrence_key,
        thread_of,
    )


def new_row(now: datetime, operation: str = "post") -> dict[str, Any]:
    """The values every new outbox row starts with: to be sent now."""
    return {
        "operation": operation,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def delivery_values(
    *,
    project_id: int | None,
    target: Target,
    message: Message,
    now: datetime,
    occurrence_key: str | None = None,
    thread_of: int | None = None,
    operation: str = "post",
) -> dict[str, Any]:
    """An outbox row as plain values."""
    record = outbox_record(
        project_id, target, message.audience, message_to_dict(message), occurrence_key, thread_of
    )
    return dict(zip(OUTBOX_COLUMNS, record, strict=True)) | new_row(now, operation)


def enqueue(
    session: AsyncSession,
    *,
    project_id: int | None,
    platform: str,
    tenant: str,
    channel_id: str,
    target_kind: str,
    message: Message,
    now: datetime,
    occurrence_key: str | None = None,
    thread_of: int | None = None,
    operation: str = "post",
) -> Delivery:
    target = Target(platform, tenant, channel_id, target_kind)
    delivery = Delivery(
        **delivery_values(
            project_id=project_id,
            target=target,
            message=message,
            now=now,
            occurrence_key=occurrence_key,
            thread_of=thread_of,
            operation=operation,
        )
    )
    session.add(delivery)
    return delivery


def unlinked_place(target_kind: str, channel_id: str) -> str:
    """How to name a place that is not a project's linked channel."""
    if target_kind == "dm":
        return "a direct message"
    if target_kind == "email":
        return f"{channel_id} by email"
    return f"channel {channel_id}"


def person_target(
    person: Person | Teammate, conversation: Conversation | None, tenant: str
) -> Target | None:
    """Where a direct message to `person` about a project of `tenant` (its platform id)
    goes: their known DM conversation there; on Slack their user id with that tenant's
    token (chat.postMessage opens the DM); in the console their name. Never into another
    tenant: the person may be known elsewhere, the project's messages stay in its own."""
    if conversation is not None and conversation.tenant == tenant:
        if not conversation.reachable:
            return None
        return Target(conversation.platform, tenant, conversation.channel_id, "dm")
    if person.platform == "console":
        return Target("console", tenant, f"dm:{person.external_id}", "dm")
    if person.platform == "slack":
        return Target("slack", tenant, person.external_id, "dm")
    return None
