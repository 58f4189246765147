"""ledger totals kept by triggers (hand-written: the models cannot say it)

The tables are the generated schema's (0001, `storage.models.LedgerTotal`, `LedgerDay`,
`LedgerPerson`, `LedgerCategory`); this adds the triggers that keep them
(storage/ledger_totals.py) and fills them for rows already there.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

from storage import ledger_totals

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ledger_totals.TOTALS:
        op.execute(f"DELETE FROM {table}")
    for statement in ledger_totals.backfill_statements(dialect):
        op.execute(statement)
    for statement in ledger_totals.create_statements(dialect):
        op.execute(statement)


def downgrade() -> None:
    for statement in ledger_totals.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
