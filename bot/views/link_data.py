"""Reading a project's document links (`link add`): all for the team, the client-flagged
ones for anything a client reads (`links` in the client channel, the client status).

Room: views."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DocumentLink


async def load_links(
    session: AsyncSession, project_id: int, *, client_only: bool
) -> list[DocumentLink]:
    query = select(DocumentLink).where(DocumentLink.project_id == project_id)
    if client_only:
        query = query.where(DocumentLink.client_visible.is_(True))
    return list(await session.scalars(query.order_by(DocumentLink.number)))
