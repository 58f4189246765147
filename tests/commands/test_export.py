"""CSV exports: a File block made with the csv module; never for a client."""

from __future__ import annotations

import csv
import io

from bot.messages import File
from bot.requests import Actor, Place, Request
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, kickoff


async def export_file(bot: Harness, what: str, who: str = "ann") -> tuple[str, list[dict]]:
    reply = await bot.engine.handle(
        Request(
            Actor("console", "local", who, who), Place("console", "local", "team"), f"export {what}"
        )  # fmt: skip
    )
    files = [b for m in reply.messages for b in m.blocks if isinstance(b, File)]
    assert len(files) == 1, reply
    assert reply.messages[0].visibility == "ephemeral"
    text = files[0].content.decode("utf-8")
    return files[0].name, list(csv.DictReader(io.StringIO(text)))


async def _project(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'milestone add "Beta" due:2026-12-10 client')
    await bot.say("ann", 'task add "Wireframes, v2" @bob due:2026-12-04 milestone:"Beta" est:8h')
    await bot.say("ann", 'task add "=HYPERLINK(evil)" @bob due:2026-12-05')
    await bot.say("bob", 'log 2.5h task:1 "first pass, with "quotes""')
    await bot.say("ann", 'spend 1234.56 "Stock photos" media')
    await bot.say("ann", 'risk add "Vendor late" likelihood:high impact:low owner:@bob client')


async def test_tasks_export(bot: Harness) -> None:
    await _project(bot)
    name, rows = await export_file(bot, "tasks")
    assert name == "acme-site-tasks-2026-12-01.csv"
    assert rows[0]["title"] == "Wireframes, v2" and rows[0]["owner"] == "bob"
    assert (rows[0]["milestone"], rows[0]["due"], rows[0]["status"]) == (
        "Beta",
        "2026-12-04",
        "open",
    )
    assert rows[0]["estimate_hours"] == "8.00"
    # A cell that a spreadsheet would run as a formula is kept as text.
    assert rows[1]["title"] == "'=HYPERLINK(evil)"


async def test_time_spend_and_risks_exports(bot: Harness) -> None:
    await _project(bot)
    _, time = await export_file(bot, "time", who="bob")
    assert [(r["person"], r["task"], r["hours"], r["cost"]) for r in time] == [
        ("bob", "1", "2.50", "250.00")
    ]
    assert time[0]["note"].startswith("first pass")
    _, spend = await export_file(bot, "spend")
    assert [(r["description"], r["category"], r["amount"], r["currency"]) for r in spend] == [
        ("Stock photos", "media", "1234.56", "USD")
    ]
    _, risks = await export_file(bot, "risks")
    assert risks == [
        {"number": "1", "title": "Vendor late", "likelihood": "high", "impact": "low",
         "score": "3", "status": "open", "owner": "bob", "mitigation": "",
         "visibility": "client", "review_on": ""}
    ]  # fmt: skip


async def test_the_console_prints_the_file(bot: Harness) -> None:
    await _project(bot)
    out = await bot.say("ann", "export spend")
    assert "--- acme-site-spend-2026-12-01.csv ---" in out
    assert "2026-12-01,Stock photos,media,1234.56,USD,ann" in out


async def test_clients_cannot_export(bot: Harness) -> None:
    await _project(bot)
    await bot.say("ann", "team add @dora role:client")
    for what in ("tasks", "time", "spend", "risks"):
        out = await client_says(bot, f"export {what}")
        assert "is for the delivery team or the project's PM" in out
        assert "1234.56" not in out and "Wireframes" not in out
        out = await bot.say("ann", f"export {what}", channel=CLIENT)
        assert "shared with the client" in out and "---" not in out
        out = await bot.say("dora", f"export {what}", channel=None)
        assert "is for the delivery team" in out and "---" not in out


async def test_bad_export_input(bot: Harness) -> None:
    await kickoff(bot)
    for line, message in [
        ("export", "Missing what to export"),
        ("export money", "not `money`"),
        ("export tasks now", "I did not understand"),
    ]:
        out = await bot.say("ann", line)
        assert message in out and "Usage: export tasks|time|spend|risks" in out
