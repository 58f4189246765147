"""ledger totals: each project's expenses and time cost in cents, kept by triggers

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage import ledger_totals

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_totals",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("expense_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("time_cost_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_ledger_totals_project_id_projects"),
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_ledger_totals")),
    )
    dialect = op.get_bind().dialect.name
    op.execute(ledger_totals.backfill_statement(dialect))
    for statement in ledger_totals.create_statements(dialect):
        op.execute(statement)


def downgrade() -> None:
    for statement in ledger_totals.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("ledger_totals")
