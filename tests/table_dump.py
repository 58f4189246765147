"""Every row of every table as one text, the way a database dump would show it: for tests
that a value (a token, an erased name) is nowhere in the database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Base
from storage.slack_tables import slack_metadata


async def dump_all_tables(db: AsyncEngine) -> str:
    lines: list[str] = []
    async with db.connect() as connection:
        for table in [*Base.metadata.sorted_tables, *slack_metadata().sorted_tables]:
            for row in (await connection.execute(select(table))).all():
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)
