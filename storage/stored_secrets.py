"""Which stored columns hold secrets, and the passes over all of them: re-seal every value
with the first key (the migration of clear rows, and key rotation) and check that every
value opens (`liaison doctor`)."""

from __future__ import annotations

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Base, CalendarFeed, EmailRecipient
from storage.secrets import SecretBox
from storage.slack_tables import BOTS_TABLE, INSTALLATIONS_TABLE, TOKEN_COLUMNS, slack_metadata

SECRET_COLUMNS: dict[str, tuple[str, ...]] = {
    BOTS_TABLE: ("bot_token", "bot_refresh_token"),
    INSTALLATIONS_TABLE: TOKEN_COLUMNS,
    # The tokens of links that open without a login (bot.domain.access_tokens).
    CalendarFeed.__tablename__: ("token",),
    EmailRecipient.__tablename__: ("token",),
}


def _tables() -> dict[str, Table]:
    return {**slack_metadata().tables, **Base.metadata.tables}


async def reseal_all(db: AsyncEngine, box: SecretBox) -> int:
    """Seal every stored secret with the first key; returns how many rows changed."""
    tables = _tables()
    changed = 0
    async with db.begin() as connection:
        for name, columns in SECRET_COLUMNS.items():
            table = tables[name]
            rows = await connection.execute(
                select(table.c.id, *(table.c[c] for c in columns)).with_for_update()
            )
            for row in rows.mappings().all():
                values = {c: box.reseal(row[c]) for c in columns}
                if any(values[c] != row[c] for c in columns):
                    await connection.execute(
                        update(table).where(table.c.id == row["id"]).values(**values)
                    )
                    changed += 1
    return changed


async def count_opened(db: AsyncEngine, box: SecretBox) -> int:
    """How many stored secrets there are; raises SecretKeyError if one does not open."""
    tables = _tables()
    opened = 0
    async with db.connect() as connection:
        for name, columns in SECRET_COLUMNS.items():
            table = tables[name]
            rows = await connection.execute(select(*(table.c[c] for c in columns)))
            for row in rows.all():
                opened += sum(1 for value in row if box.open(value) is not None)
    return opened
