"""Reading a project's document links (`link add`): all for the team, the client-flagged
ones for anything a client reads (`links` in the client channel, the client status).

Room: views."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

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


async def load_client_links(
    session: AsyncSession, project_ids: Sequence[int]
) -> dict[int, list[tuple[str, str]]]:
    """The client-flagged links of many projects in one statement, (label, url) by project."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    rows = await session.execute(
        select(DocumentLink.project_id, DocumentLink.label, DocumentLink.url)
        .where(DocumentLink.project_id.in_(project_ids), DocumentLink.client_visible.is_(True))
        .order_by(DocumentLink.project_id, DocumentLink.number)
    )
    for project_id, label, url in rows:
        found[project_id].append((label, url))
    return found
