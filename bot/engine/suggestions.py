"""The line last offered with "Did you mean ...?", kept so that a typed `yes` runs it: the
typed form of the *Run it* button. Kept per person and place, for a short while only."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.requests import Request
from storage.models import PendingSuggestion

YES_WORDS = frozenset({"yes", "y", "yes please", "yep", "run it"})
KEPT_FOR = timedelta(minutes=15)


def is_yes(text: str) -> bool:
    return " ".join(text.lower().strip(" .!").split()) in YES_WORDS


def _mine(request: Request) -> tuple:
    actor, place = request.actor, request.place
    return (
        PendingSuggestion.platform == place.platform,
        PendingSuggestion.tenant == place.tenant,
        PendingSuggestion.user_id == actor.user_id,
        PendingSuggestion.channel_id == place.channel_id,
    )


async def remember(session: AsyncSession, request: Request, line: str, now: datetime) -> None:
    """Offer `line`: it replaces whatever was offered before in this place."""
    await session.execute(delete(PendingSuggestion).where(*_mine(request)))
    place = request.place
    session.add(
        PendingSuggestion(
            platform=place.platform,
            tenant=place.tenant,
            user_id=request.actor.user_id,
            channel_id=place.channel_id,
            line=line,
            offered_at=now,
        )
    )


async def take(session: AsyncSession, request: Request, now: datetime) -> str | None:
    """The line offered here lately, once: a second `yes` does not run it again."""
    offered = await session.scalar(select(PendingSuggestion).where(*_mine(request)))
    if offered is None:
        return None
    await session.delete(offered)
    return offered.line if offered.offered_at >= now - KEPT_FOR else None
