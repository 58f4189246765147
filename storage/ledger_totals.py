"""The triggers that keep `ledger_totals` (see `storage.models.LedgerTotal`) equal to the
sums of `expenses.amount` and `time_entries.cost`, in whole cents, on both backends.

Each insert adds its row's cents to its project's total (creating the total on first
use), each delete takes them away and an update of the amount or the project does both.
A delete only ever updates: a project's rows are deleted in any order (see
`delete_project_rows`), and a total deleted first must not be created again by the
deletion of its rows.

Cents are exact: PostgreSQL's NUMERIC times 100 is a whole number; SQLite keeps NUMERIC as
floating point, so there each amount is rounded to whole cents as the sums were."""

from __future__ import annotations

from typing import NamedTuple


class Kept(NamedTuple):
    table: str  # the rows summed
    amount: str  # their money column
    total: str  # its column in ledger_totals


KEPT = (
    Kept("expenses", "amount", "expense_cents"),
    Kept("time_entries", "cost", "time_cost_cents"),
)
TOTAL_COLUMNS = tuple(k.total for k in KEPT)


def _cents(dialect: str, value: str) -> str:
    if dialect == "postgresql":
        return f"({value} * 100)::bigint"
    return f"CAST(round({value} * 100) AS INTEGER)"


def _add(dialect: str, kept: Kept, row: str) -> str:
    values = ", ".join(
        _cents(dialect, f"{row}.{kept.amount}") if column == kept.total else "0"
        for column in TOTAL_COLUMNS
    )
    return (
        f"INSERT INTO ledger_totals (project_id, {', '.join(TOTAL_COLUMNS)}) "
        f"VALUES ({row}.project_id, {values}) "
        f"ON CONFLICT (project_id) DO UPDATE SET "
        f"{kept.total} = ledger_totals.{kept.total} + excluded.{kept.total};"
    )


def _take(dialect: str, kept: Kept, row: str) -> str:
    return (
        f"UPDATE ledger_totals SET {kept.total} = {kept.total} - "
        f"{_cents(dialect, f'{row}.{kept.amount}')} WHERE project_id = {row}.project_id;"
    )


def _trigger_name(kept: Kept, event: str) -> str:
    return f"{kept.table}_keep_{event}"


def _sqlite_triggers(kept: Kept) -> list[str]:
    def trigger(event: str, body: str) -> str:
        return (
            f"CREATE TRIGGER {_trigger_name(kept, event.split()[0].lower())} AFTER {event} "
            f"ON {kept.table} FOR EACH ROW BEGIN {body} END"
        )

    changed = f"UPDATE OF {kept.amount}, project_id"
    return [
        trigger("INSERT", _add("sqlite", kept, "NEW")),
        trigger("DELETE", _take("sqlite", kept, "OLD")),
        trigger(changed, _take("sqlite", kept, "OLD") + " " + _add("sqlite", kept, "NEW")),
    ]


def _postgres_triggers(kept: Kept) -> list[str]:
    function = f"{kept.table}_keep_total"
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_take("postgresql", kept, "OLD")}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_add("postgresql", kept, "NEW")}
    END IF;
    RETURN NULL;
END
$$""",
        f"CREATE TRIGGER {_trigger_name(kept, 'total')} "
        f"AFTER INSERT OR DELETE OR UPDATE OF {kept.amount}, project_id ON {kept.table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def create_statements(dialect: str) -> list[str]:
    """The triggers (and PostgreSQL's trigger functions) that keep the totals."""
    make = _postgres_triggers if dialect == "postgresql" else _sqlite_triggers
    return [statement for kept in KEPT for statement in make(kept)]


def drop_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP FUNCTION IF EXISTS {k.table}_keep_total() CASCADE" for k in KEPT]
    return [
        f"DROP TRIGGER IF EXISTS {_trigger_name(k, event)}"
        for k in KEPT
        for event in ("insert", "delete", "update")
    ]


def backfill_statement(dialect: str) -> str:
    """The totals of the rows there are, for a database that had no totals before."""

    def summed(kept: Kept) -> str:
        per_row = _cents(dialect, kept.amount)
        return (
            f"COALESCE((SELECT SUM({per_row}) FROM {kept.table} "
            f"WHERE {kept.table}.project_id = projects.id), 0)"
        )

    return (
        f"INSERT INTO ledger_totals (project_id, {', '.join(TOTAL_COLUMNS)}) "
        f"SELECT projects.id, {', '.join(summed(k) for k in KEPT)} FROM projects"
    )
