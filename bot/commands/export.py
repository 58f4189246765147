"""CSV exports of tasks, time, spend, risks and history, one at a time or all in one zip.
Internal data: never for a client."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from bot.clock import local_date
from bot.commands.guards import team_side_only
from bot.commands.history import HISTORY_HEADER, history_csv_rows, history_rows
from bot.domain.snapshot import LEVELS
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import TEAM, command
from bot.messages import File, Message, Text
from storage.models import Expense, Milestone, Person, Risk, Task, TimeEntry

# A spreadsheet runs a cell that starts with one of these as a formula; the full-width
# forms count too (some spreadsheets fold them to ASCII on import).
FORMULA_SIGNS = "=+-@\uff1d\uff0b\uff0d\uff20"
FORMULA_START = (*FORMULA_SIGNS, "\t", "\r")
# A spreadsheet that splits on one of these (a `;` locale, a tab paste, a line break) starts
# a new cell after it, so a formula sign there is neutralised as well as at the start.
FORMULA_AFTER_SEPARATOR = re.compile(f"([,;\t\r\n])(?=[{re.escape(FORMULA_SIGNS)}])")


def safe_cell(value: Any) -> Any:
    """A value as a spreadsheet shows it and never runs it: a `'` before a formula sign."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    text = FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    # Every field quoted: a separator inside a value never splits it, whatever the locale.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


async def _tasks(ctx: CommandContext) -> tuple[list[str], list[list[Any]]]:
    rows = await ctx.session.execute(
        select(Task, Person.display_name, Milestone.title)
        .outerjoin(Person, Person.id == Task.owner_id)
        .outerjoin(Milestone, Milestone.id == Task.milestone_id)
        .where(Task.project_id == ctx.the_project.id)
        .order_by(Task.number)
    )
    zone = ctx.the_project.timezone
    header = ["number", "title", "owner", "milestone", "due", "status", "estimate_hours", "done_on"]
    return header, [
        [t.number, t.title, owner, milestone, t.due_date, t.status, t.estimate_hours,
         local_date(t.done_at, zone) if t.done_at else None]
        for t, owner, milestone in rows
    ]  # fmt: skip


async def _time(ctx: CommandContext) -> tuple[list[str], list[list[Any]]]:
    rows = await ctx.session.execute(
        select(TimeEntry, Person.display_name, Task.number)
        .join(Person, Person.id == TimeEntry.person_id)
        .outerjoin(Task, Task.id == TimeEntry.task_id)
        .where(TimeEntry.project_id == ctx.the_project.id)
        .order_by(TimeEntry.logged_on, TimeEntry.id)
    )
    currency = ctx.the_project.currency
    header = ["date", "person", "task", "hours", "cost", "currency", "note"]
    return header, [
        [e.logged_on, who, task, e.hours, e.cost, currency, e.note] for e, who, task in rows
    ]


async def _spend(ctx: CommandContext) -> tuple[list[str], list[list[Any]]]:
    rows = await ctx.session.execute(
        select(Expense, Person.display_name)
        .outerjoin(Person, Person.id == Expense.person_id)
        .where(Expense.project_id == ctx.the_project.id)
        .order_by(Expense.spent_on, Expense.id)
    )
    currency = ctx.the_project.currency
    header = ["date", "description", "category", "amount", "currency", "entered_by"]
    return header, [
        [e.spent_on, e.description, e.category, e.amount, currency, who] for e, who in rows
    ]


async def _risks(ctx: CommandContext) -> tuple[list[str], list[list[Any]]]:
    owner = aliased(Person)
    rows = await ctx.session.execute(
        select(Risk, owner.display_name)
        .outerjoin(owner, owner.id == Risk.owner_id)
        .where(Risk.project_id == ctx.the_project.id)
        .order_by(Risk.number)
    )
    header = ["number", "title", "likelihood", "impact", "score", "status", "owner",
              "mitigation", "visibility", "review_on"]  # fmt: skip
    return header, [
        [r.number, r.title, LEVELS[r.likelihood], LEVELS[r.impact], r.likelihood * r.impact,
         r.status, who, r.mitigation, "client" if r.client_visible else "internal", r.review_on]
        for r, who in rows
    ]  # fmt: skip


async def _history(ctx: CommandContext) -> tuple[list[str], list[list[Any]]]:
    if not ctx.is_pm:
        raise ctx.refuse("The project's history is for its PM.")
    return HISTORY_HEADER, history_csv_rows(await history_rows(ctx))


EXPORTS = {
    "tasks": _tasks,
    "time": _time,
    "spend": _spend,
    "risks": _risks,
    "history": _history,
}


ALL = "all"


def _zip(files: dict[str, bytes], when: tuple[int, int, int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=when), content)
    return buffer.getvalue()


async def _export_all(ctx: CommandContext, slug: str) -> Message:
    """Every CSV in one zip, for the PM (it holds the history)."""
    if not ctx.is_pm:
        raise ctx.refuse("Exporting everything is for the project's PM.")
    day = ctx.project_today.isoformat()
    files: dict[str, bytes] = {}
    for what, rows_of in EXPORTS.items():
        header, rows = await rows_of(ctx)
        files[f"{slug}-{what}-{day}.csv"] = to_csv(header, rows)
    when = ctx.now.timetuple()[:6]
    content = _zip(files, (max(1980, when[0]), *when[1:]))  # a zip's dates start in 1980
    return ctx.whisper(
        Text(f"Everything of {ctx.the_project.name}: {len(files)} CSV files in one zip."),
        File(f"{slug}-{ALL}-{day}.zip", content, mime="application/zip"),
    )


@command(
    "export",
    reads_only=True,
    usage="export tasks|time|spend|risks|history|all",
    summary="A CSV file of the project's tasks, time entries, spend, risks or history, "
    "or all of them in one zip (PM)",
    area="export",
    roles=TEAM,
)
async def export(ctx: CommandContext, args: Args) -> Message:
    what = (args.word("what to export: tasks, time, spend, risks, history or all") or "").lower()
    if what not in EXPORTS and what != ALL:
        raise ctx.fail(
            f"I can export tasks, time, spend, risks, history or all, not `{what[:40]}`."
        )
    team_side_only(ctx, "Exports")
    project = ctx.the_project
    slug = re.sub(r"[^a-z0-9]+", "-", project.name.lower()).strip("-") or "project"
    if what == ALL:
        return await _export_all(ctx, slug)
    header, rows = await EXPORTS[what](ctx)
    name = f"{slug}-{what}-{ctx.project_today.isoformat()}.csv"
    return ctx.whisper(
        Text(f"{what.capitalize()} of {project.name}: {len(rows)} rows."),
        File(name, to_csv(header, rows)),
    )
