"""Posting activities through the Bot Connector, and what its failures mean to the outbox."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference
from botframework.connector.aio import ConnectorClient
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.delivery.vocabulary import DeliveryError

RETRY = {408, 412, 500, 502, 503, 504}
UNREACHABLE = {403, 404}
MAX_BACKOFF_SECONDS = 300.0


async def post_activities(
    connector: ConnectorClient,
    reference: ConversationReference,
    activities: list[dict[str, Any]],
    *,
    reply_to: str | None = None,
) -> list[str | None]:
    """Post in order; the ids Teams gave them. Retries are the outbox's job, not msrest's
    (its default sleeps inside the request and ignores what a 429 asks for)."""
    connector.config.retry_policy.retries = 0
    conversation_id = reference.conversation.id
    ids: list[str | None] = []
    for data in activities:
        activity = TurnContext.apply_conversation_reference(Activity().deserialize(data), reference)
        if reply_to:
            response = await connector.conversations.reply_to_activity(
                conversation_id, reply_to, activity
            )
        else:
            response = await connector.conversations.send_to_conversation(conversation_id, activity)
        ids.append(getattr(response, "id", None))
    return ids


async def update_activity(
    connector: ConnectorClient,
    reference: ConversationReference,
    activity_id: str,
    data: dict[str, Any],
) -> None:
    """Replace a posted activity (Bot Connector Update Activity: PUT .../activities/{id})."""
    connector.config.retry_policy.retries = 0
    activity = TurnContext.apply_conversation_reference(Activity().deserialize(data), reference)
    activity.id = activity_id
    await connector.conversations.update_activity(reference.conversation.id, activity_id, activity)


def retry_after(headers: Any, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: a number, or an HTTP date."""
    value = (headers or {}).get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def backoff(consecutive: int) -> float:
    """Exponential with full jitter, so throttled senders do not come back together."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2.0 ** max(1, consecutive))
    return random.uniform(ceiling / 2, ceiling)


def status_of(error: Exception) -> int | None:
    """The HTTP status the Bot Connector answered, if it answered."""
    if isinstance(error, HttpOperationError) and error.response is not None:
        return int(getattr(error.response, "status_code", 0) or 0)
    return None


def delivery_error(error: Exception, *, throttled_before: int = 0) -> DeliveryError:
    """What a failed post means: retry (when), give up, or the conversation is gone."""
    status = status_of(error)
    if status is not None:
        reason = f"Bot Connector answered {status}"
        if status == 429:
            wait = retry_after(getattr(error.response, "headers", None))
            return DeliveryError(
                reason, retry_after=wait if wait is not None else backoff(throttled_before + 1)
            )
        if status in UNREACHABLE:
            return DeliveryError(
                f"{reason}: the bot was removed from the conversation or it is gone",
                unreachable=True,
            )
        if status in RETRY or status == 401:
            return DeliveryError(reason)
        return DeliveryError(reason, permanent=True)
    if isinstance(error, ClientRequestError | ConnectionError | TimeoutError):
        return DeliveryError(f"could not reach the Bot Connector: {type(error).__name__}")
    if isinstance(error, PermissionError):
        return DeliveryError(f"no Bot Framework token: {error}")
    return DeliveryError(f"posting failed: {type(error).__name__}: {error}"[:300], permanent=True)
