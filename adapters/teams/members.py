"""Whether a Teams user is a guest of the host tenant. Guests share the host's tenant id, and
activities do not reliably carry `userRole`, so the member record says it: GET
/v3/conversations/{id}/members/{userId}, fetched once and cached with the person."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from botframework.connector.aio import ConnectorClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.teams import inbound
from bot.requests import Request
from storage.models import Person

log = logging.getLogger("liaison.teams")
EXTERNAL_ROLES = {"guest", "anonymous"}


async def fetch_role(connector: ConnectorClient, activity: inbound.Activity) -> str | None:
    """The member record's `userRole` (`user`, `guest`, ...); None when it cannot be had."""
    user_id = inbound.actor_of(activity).user_id
    connector.config.retry_policy.retries = 0  # a failure decides now, and is asked again later
    try:
        # The SDK drops `userRole` (and, without raw, the whole answer): read the JSON.
        raw = await connector.conversations.get_conversation_member(
            inbound.conversation_id(activity), user_id, raw=True
        )
        body = json.loads(raw.response.text)  # a requests.Response, whatever msrest says
    except Exception as error:  # any failure decides for external (client-safe)
        log.warning("Teams: could not read a member record: %s", type(error).__name__)
        return None
    role = body.get("userRole") if isinstance(body, dict) else None
    return role.lower() if isinstance(role, str) and role else None


async def cached_role(session: AsyncSession, user_id: str) -> str | None:
    return await session.scalar(
        select(Person.member_role).where(
            Person.platform == inbound.PLATFORM, Person.external_id == user_id
        )
    )


async def cache_role(session: AsyncSession, user_id: str, role: str) -> None:
    """Kept once known (the engine creates the person on first contact)."""
    await session.execute(
        update(Person)
        .where(
            Person.platform == inbound.PLATFORM,
            Person.external_id == user_id,
            Person.member_role.is_(None),
        )
        .values(member_role=role)
    )


def with_role(request: Request, role: str | None) -> Request:
    """A guest, or someone whose record could not be read, acts as an external person."""
    if request.actor.external or (role is not None and role not in EXTERNAL_ROLES):
        return request
    return replace(request, actor=replace(request.actor, external=True))
