"""Several column selects read in one statement give exactly the rows each gives alone:
the same values of the same types (dates, aware datetimes, exact Decimals, bools, NULLs),
in each select's own order, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, inspect, select, update

from storage.models import Project, Risk, Task
from storage.reads import attached_copy, column_row_sets, column_rows, wholly_loaded
from tests.harness import Harness
from tests.project_setup import kickoff


async def test_rows_read_together_are_the_rows_read_alone(bot: Harness) -> None:
    await kickoff(bot)
    for n in range(5):
        await bot.say("ann", f'task add "Task {n}" @bob due:2027-01-{10 - n:02d} est:{n}.25h')
    await bot.say("ann", 'risk add "Vendor" likelihood:high impact:high')
    async with bot.sessions() as session, session.begin():
        await session.execute(update(Project).values(budget=Decimal("123456789012.34")))
        await session.execute(
            update(Task)
            .where(Task.number == 2)
            .values(done_at=datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
        )
    statements = [
        select(Task.number, Task.title, Task.due_date, Task.estimate_hours, Task.done_at).order_by(
            Task.due_date.desc(), Task.number
        ),
        select(Project.name, Project.budget, Project.archived, Project.created_at),
        select(Risk.number, Risk.client_visible, Risk.mitigation).where(Risk.number > 99),
        select(Task.owner_id, func.count(), func.sum(Task.estimate_hours))
        .group_by(Task.owner_id)
        .order_by(Task.owner_id),
    ]
    async with bot.sessions() as session:
        together = await column_row_sets(session, statements, {})
        alone = [[tuple(row) for row in await column_rows(session, s)] for s in statements]
    assert together == alone
    for rows_together, rows_alone in zip(together, alone, strict=True):
        for row_together, row_alone in zip(rows_together, rows_alone, strict=True):
            assert [type(v) for v in row_together] == [type(v) for v in row_alone]
    tasks, projects, risks, _ = together
    assert len(tasks) >= 5 and any(row[4] is not None for row in tasks)
    assert projects[0][1] == Decimal("123456789012.34") and risks == []


async def test_a_limited_select_read_together_keeps_the_first_rows_in_its_order(
    bot: Harness,
) -> None:
    """A LIMIT keeps the first rows of the select's ORDER BY, read together as alone. (The
    subquery keeps its ORDER BY when it has a LIMIT: SQL promises nothing about which rows
    a LIMIT keeps without one, though both backends here happen to keep the window's.)"""
    await kickoff(bot)
    for n in range(12):  # stored in the opposite order of their due dates
        await bot.say("ann", f'task add "Task {n}" @bob due:2027-01-{28 - n:02d}')
    earliest = select(Task.number, Task.due_date).order_by(Task.due_date, Task.number).limit(3)
    async with bot.sessions() as session:
        (together,) = await column_row_sets(session, [earliest], {})
        alone = [tuple(row) for row in await column_rows(session, earliest)]
    assert together == alone
    assert [number for number, _ in together] == [12, 11, 10]


async def test_an_attached_copy_is_a_detached_row_as_merge_gives_it(bot: Harness) -> None:
    """The copy in a new session holds what `merge(load=False)` would give, is persistent
    with nothing to flush, is that session's own (a get finds it without a statement), and
    changing it changes neither the original nor anything else. A row with a column not
    loaded (expired) is not wholly loaded: it is read, not copied as None."""
    await kickoff(bot)
    async with bot.sessions() as session:
        original = await session.scalar(select(Project))
        assert original is not None
        session.expunge(original)
    columns = [c.key for c in inspect(Project).column_attrs]
    async with bot.sessions() as session:
        merged = await session.merge(original, load=False)
        as_merged = {key: getattr(merged, key) for key in columns}
    async with bot.sessions() as session:
        assert wholly_loaded(original)
        copy = attached_copy(session, original)
        assert {key: getattr(copy, key) for key in columns} == as_merged
        assert copy is not original and inspect(copy).persistent
        assert not session.dirty and not session.new
        assert await session.get(Project, original.id) is copy
        assert attached_copy(session, original) is copy  # the session's own, once held
        copy.name = "Renamed"
        assert session.is_modified(copy) and original.name != "Renamed"
    async with bot.sessions() as session:
        expired = await session.scalar(select(Project))
        assert expired is not None
        session.expire(expired, ["archived"])
        session.expunge(expired)
    assert not wholly_loaded(expired)
