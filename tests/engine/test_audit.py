"""The audit trail: every write recorded in its own transaction (who, when, where, the
command and its line), shown to the PM by `history`, exported as CSV, never to a client."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry
from tests.commands.test_export import export_file
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, kickoff


async def scripted_project(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-04')
    bot.clock.advance(hours=1)
    await bot.say("bob", "log 2h task:1")
    await bot.say("ann", 'spend 1234.56 "Stock photos" media')
    await bot.say("ann", "status")  # reads only: not recorded
    await bot.say("ann", "budget spend nonsense")  # refused: nothing written, nothing recorded
    await client_says(bot, 'request "Can we see the wireframes?"')


async def entries(bot: Harness) -> list[AuditEntry]:
    async with bot.sessions() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def test_every_write_and_only_writes_are_recorded(bot: Harness) -> None:
    await scripted_project(bot)
    recorded = await entries(bot)
    commands = [e.command for e in recorded]
    assert "status" not in commands and commands.count("spend") == 1
    assert commands[-4:] == ["task add", "log", "spend", "request"]
    log = recorded[-3]
    assert log.line == "log 2h task:1" and log.platform == "console"
    assert log.channel_id == "team" and log.project_id is not None
    assert log.at.isoformat() == "2026-12-01T11:00:00+00:00"


async def test_history_for_the_pm_filtered_by_person_and_days(bot: Harness) -> None:
    await scripted_project(bot)
    shown = await bot.say("ann", "history")
    assert "bob: log 2h task:1" in shown and "ann: spend 1234.56" in shown
    assert shown.index("spend 1234.56") < shown.index("task add")  # newest first
    only_bob = await bot.say("ann", "history @bob")
    assert "log 2h" in only_bob and "spend" not in only_bob
    bot.clock.advance(days=3)
    await bot.say("ann", 'task add "Copy" @bob due:2026-12-10')
    recent = await bot.say("ann", "history days:1")
    assert 'task add "Copy"' in recent and "Wireframes" not in recent
    assert "days:" in await bot.say("ann", "history days:lots")


async def test_history_is_never_for_a_client_nor_the_team_member(bot: Harness) -> None:
    await scripted_project(bot)
    refused = await client_says(bot, "history")
    assert "1234" not in refused and "spend" not in refused.lower()
    assert "1234" not in await bot.say("bob", "history")
    assert "1234" not in await bot.say("ann", "history", channel=CLIENT)


async def test_export_history_is_a_csv_for_the_pm(bot: Harness) -> None:
    await scripted_project(bot)
    name, rows = await export_file(bot, "history")
    assert name.startswith("acme-site-history-")
    assert [r["command"] for r in rows][:2] == ["request", "spend"]
    assert rows[1]["person"] == "ann" and rows[1]["line"].startswith("spend 1234.56")
    assert "1234" not in await bot.say("bob", "export history")
