"""Conversation references: stored or refreshed on every inbound activity, read to post
proactively. Teams may move a conversation to another `serviceUrl` at any time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.teams import inbound
from storage.models import Conversation, Person

REMOVED = "Liaison was removed from this conversation"


def reference_of(activity: inbound.Activity) -> dict[str, Any]:
    """The JSON of a Bot Framework ConversationReference for posting into this conversation
    later: top level of the channel (no thread, no activity to reply to)."""
    conversation = dict(activity.get("conversation") or {})
    conversation["id"] = inbound.conversation_id(activity)
    conversation.setdefault("tenantId", inbound.host_tenant(activity))
    return {
        "activityId": None,
        "user": activity.get("from"),
        "bot": activity.get("recipient"),
        "conversation": conversation,
        "channelId": activity.get("channelId"),
        "locale": activity.get("locale"),
        "serviceUrl": activity.get("serviceUrl"),
    }


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Conversation)


async def remember(
    session: AsyncSession, activity: inbound.Activity, now: datetime
) -> Conversation | None:
    """Store or refresh the reference; returns the row as it was before (None: first time).

    An inbound activity proves the bot can reach the conversation again, unless it is the
    very update that says the bot was removed."""
    place = inbound.place_of(activity)
    before = await session.scalar(
        select(Conversation).where(
            Conversation.platform == inbound.PLATFORM, Conversation.channel_id == place.channel_id
        )
    )
    if before is not None:
        session.expunge(before)
    removed = inbound.bot_removed(activity)
    person = (
        select(Person.id)
        .where(
            Person.platform == inbound.PLATFORM,
            Person.external_id == inbound.actor_of(activity).user_id,
        )
        .scalar_subquery()
        if place.kind == "dm"
        else None
    )
    values = {
        "platform": inbound.PLATFORM,
        "tenant": place.tenant,
        "channel_id": place.channel_id,
        "kind": place.kind,
        "person_id": person,
        "reference": reference_of(activity),
        "reachable": not removed,
        "unreachable_reason": REMOVED if removed else None,
        "updated_at": now,
    }
    statement = _insert(session).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "channel_id"],
        set_={
            "tenant": statement.excluded.tenant,
            "reference": statement.excluded.reference,
            "reachable": statement.excluded.reachable,
            "unreachable_reason": statement.excluded.unreachable_reason,
            "updated_at": statement.excluded.updated_at,
            # The person of a direct chat is known once they have spoken to the engine.
            "person_id": func.coalesce(statement.excluded.person_id, Conversation.person_id),
        },
    )
    await session.execute(statement)
    return before


async def reference_for(session: AsyncSession, channel_id: str) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(
            Conversation.platform == inbound.PLATFORM, Conversation.channel_id == channel_id
        )
    )
