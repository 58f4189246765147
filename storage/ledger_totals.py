"""The triggers that keep the ledger's running totals (see `storage.models.LedgerTotal`,
`LedgerDay`, `LedgerPerson` and `LedgerCategory`) equal to the sums of `expenses` and
`time_entries`, in whole cents (hours in hundredths), on both backends.

Each insert adds its row's cents to its totals (creating a total on first use), each
delete takes them away, and an update of a summed or a key column does both. A delete
only ever updates: a project's rows are deleted in any order (see `delete_project_rows`),
and a total deleted first must not be created again by the deletion of its rows.

Cents are exact: PostgreSQL's NUMERIC times 100 is a whole number; SQLite keeps NUMERIC as
floating point, so there each amount is rounded to whole cents before it is added."""

from __future__ import annotations

from typing import NamedTuple


class Kept(NamedTuple):
    table: str  # the rows summed
    amount: str  # their column summed (money, or hours)
    totals: str  # the table of totals
    total: str  # its column there
    keys: tuple[tuple[str, str], ...] = ()  # beside project_id: (its column, the row's)


KEPT = (
    Kept("expenses", "amount", "ledger_totals", "expense_cents"),
    Kept("time_entries", "cost", "ledger_totals", "time_cost_cents"),
    Kept("expenses", "amount", "ledger_days", "expense_cents", (("day", "spent_on"),)),
    Kept("time_entries", "cost", "ledger_days", "time_cost_cents", (("day", "logged_on"),)),
    Kept("expenses", "amount", "ledger_categories", "cents", (("category", "category"),)),
    Kept("time_entries", "hours", "ledger_people", "hours_cents", (("person_id", "person_id"),)),
    Kept("time_entries", "cost", "ledger_people", "cost_cents", (("person_id", "person_id"),)),
)
SOURCES = tuple(dict.fromkeys(k.table for k in KEPT))
TOTALS = tuple(dict.fromkeys(k.totals for k in KEPT))
# The tables of totals a write to each summed table changes too.
TOTALS_KEPT_FROM = {
    table: frozenset(k.totals for k in KEPT if k.table == table) for table in SOURCES
}


def _columns(totals: str) -> list[str]:
    """A table of totals' summed columns, in one order."""
    return list(dict.fromkeys(k.total for k in KEPT if k.totals == totals))


def _keys(kept: Kept) -> list[tuple[str, str]]:
    return [("project_id", "project_id"), *kept.keys]


def _kept_from(table: str) -> list[list[Kept]]:
    """What a table's rows add to, one list per table of totals."""
    by_totals: dict[str, list[Kept]] = {}
    for kept in KEPT:
        if kept.table == table:
            by_totals.setdefault(kept.totals, []).append(kept)
    return list(by_totals.values())


def _cents(dialect: str, value: str) -> str:
    if dialect == "postgresql":
        return f"({value} * 100)::bigint"
    return f"CAST(round({value} * 100) AS INTEGER)"


def _add(dialect: str, kept: list[Kept], row: str) -> str:
    """Add one row to its totals in one table (one or more columns of it)."""
    totals, keys = kept[0].totals, _keys(kept[0])
    summed = {k.total: _cents(dialect, f"{row}.{k.amount}") for k in kept}
    columns = _columns(totals)
    names = ", ".join([column for column, _ in keys] + columns)
    values = ", ".join(
        [f"{row}.{source}" for _, source in keys] + [summed.get(c, "0") for c in columns]
    )
    added = ", ".join(f"{c} = {totals}.{c} + excluded.{c}" for c in summed)
    return (
        f"INSERT INTO {totals} ({names}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(column for column, _ in keys)}) DO UPDATE SET {added};"
    )


def _take(dialect: str, kept: list[Kept], row: str) -> str:
    totals = kept[0].totals
    taken = ", ".join(
        f"{k.total} = {k.total} - {_cents(dialect, f'{row}.{k.amount}')}" for k in kept
    )
    where = " AND ".join(f"{column} = {row}.{source}" for column, source in _keys(kept[0]))
    return f"UPDATE {totals} SET {taken} WHERE {where};"


def _changed_columns(table: str) -> str:
    """The columns whose update moves a row's cents: what is summed and what it is keyed by."""
    mine = [k for k in KEPT if k.table == table]
    named = [k.amount for k in mine] + [source for k in mine for _, source in _keys(k)]
    return ", ".join(dict.fromkeys(named))


def _trigger_name(table: str, event: str) -> str:
    return f"{table}_keep_{event}"


def _sqlite_triggers(table: str) -> list[str]:
    def trigger(event: str, body: str) -> str:
        return (
            f"CREATE TRIGGER {_trigger_name(table, event.split()[0].lower())} AFTER {event} "
            f"ON {table} FOR EACH ROW BEGIN {body} END"
        )

    kept = _kept_from(table)
    added = " ".join(_add("sqlite", each, "NEW") for each in kept)
    taken = " ".join(_take("sqlite", each, "OLD") for each in kept)
    return [
        trigger("INSERT", added),
        trigger("DELETE", taken),
        trigger(f"UPDATE OF {_changed_columns(table)}", f"{taken} {added}"),
    ]


def _postgres_triggers(table: str) -> list[str]:
    function = f"{table}_keep_total"
    kept = _kept_from(table)
    taken = "\n        ".join(_take("postgresql", each, "OLD") for each in kept)
    added = "\n        ".join(_add("postgresql", each, "NEW") for each in kept)
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {taken}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {added}
    END IF;
    RETURN NULL;
END
$$""",
        f"CREATE TRIGGER {_trigger_name(table, 'total')} "
        f"AFTER INSERT OR DELETE OR UPDATE OF {_changed_columns(table)} ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def create_statements(dialect: str) -> list[str]:
    """The triggers (and PostgreSQL's trigger functions) that keep the totals."""
    make = _postgres_triggers if dialect == "postgresql" else _sqlite_triggers
    return [statement for table in SOURCES for statement in make(table)]


def drop_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP FUNCTION IF EXISTS {table}_keep_total() CASCADE" for table in SOURCES]
    return [
        f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)}"
        for table in SOURCES
        for event in ("insert", "delete", "update")
    ]


def backfill_statements(dialect: str) -> list[str]:
    """The totals of the rows there are, for a database that had no totals before: each
    table of totals filled from every row that adds to it."""
    return [_backfill(dialect, totals) for totals in TOTALS]


def _backfill(dialect: str, totals: str) -> str:
    columns = _columns(totals)
    kept = [k for k in KEPT if k.totals == totals]
    keys = [column for column, _ in _keys(kept[0])]

    def rows_of(table: str) -> str:
        mine = [k for k in kept if k.table == table]
        summed = {k.total: _cents(dialect, k.amount) for k in mine}
        named = [f"{source} AS {column}" for column, source in _keys(mine[0])]
        named += [f"{summed.get(c, '0')} AS {c}" for c in columns]
        return f"SELECT {', '.join(named)} FROM {table}"

    every_row = " UNION ALL ".join(rows_of(table) for table in dict.fromkeys(k.table for k in kept))
    sums = ", ".join(f"SUM({c})" for c in columns)
    return (
        f"INSERT INTO {totals} ({', '.join(keys + columns)}) "
        f"SELECT {', '.join(keys)}, {sums} FROM ({every_row}) AS entries "
        f"GROUP BY {', '.join(keys)}"
    )
