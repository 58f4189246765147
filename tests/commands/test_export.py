"""CSV exports: a File block made with the csv module; never for a client."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal

import pytest

from adapters.teams.render import elements_of
from bot.commands.export import safe_cell
from bot.messages import File
from bot.requests import Actor, Place, Request
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, kickoff


async def export_bytes(bot: Harness, what: str, who: str = "ann") -> tuple[str, bytes]:
    reply = await bot.engine.handle(
        Request(
            Actor("console", "local", who, who), Place("console", "local", "team"), f"export {what}"
        )  # fmt: skip
    )
    files = [b for m in reply.messages for b in m.blocks if isinstance(b, File)]
    assert len(files) == 1, reply
    assert reply.messages[0].visibility == "ephemeral"
    return files[0].name, files[0].content


async def export_file(bot: Harness, what: str, who: str = "ann") -> tuple[str, list[dict]]:
    name, content = await export_bytes(bot, what, who)
    return name, list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


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


async def test_a_formula_after_a_separator_is_never_run(bot: Harness) -> None:
    """`;` is the field separator in many locales: `Update logo;=WEBSERVICE(...)` written
    unquoted became two cells there, the second a formula that calls out to the web."""
    await kickoff(bot)
    titles = [
        "Update logo;=WEBSERVICE(A1)",
        "Fonts,+cmd|' /C calc'!A0",
        "Copy\t-2+3",
        "Two lines\n@SUM(1)",
        "\uff1dHYPERLINK(evil)",
        "Plain; fine",
    ]
    for title in titles:
        out = await bot.say("ann", f'task add "{title}" @bob due:2026-12-05')
        assert out.startswith("Task "), out
    _, content = await export_bytes(bot, "tasks")
    lines = content.decode("utf-8").split("\r\n")
    # Every field of every record is quoted, numbers and empty ones included.
    header = lines[0]
    assert header == ",".join(f'"{name}"' for name in header.replace('"', "").split(","))
    assert lines[1] == '"1","Update logo;\'=WEBSERVICE(A1)","bob","","2026-12-05","open","",""'
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert [row["title"] for row in rows] == [
        "Update logo;'=WEBSERVICE(A1)",
        "Fonts,'+cmd|' /C calc'!A0",
        "Copy\t'-2+3",
        "Two lines\n'@SUM(1)",
        "'\uff1dHYPERLINK(evil)",
        "Plain; fine",
    ]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("a;=1", "a;'=1"),
        ("a,+1", "a,'+1"),
        ("a\t-1", "a\t'-1"),
        ("a\r\n@x", "a\r\n'@x"),
        ("\uff0b1", "'\uff0b1"),
        ("a;\uff0d1", "a;'\uff0d1"),
        ("a;\uff201", "a;'\uff201"),
        ("\t=1", "'\t'=1"),
        ("a - b; c = d", "a - b; c = d"),
        (None, ""),
        (Decimal("-1.50"), Decimal("-1.50")),
    ],
)
def test_safe_cell(value: object, shown: object) -> None:
    assert safe_cell(value) == shown


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
    assert '"2026-12-01","Stock photos","media","1234.56","USD","ann"' in out


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


async def test_export_all_is_one_zip_of_every_csv_for_the_pm(bot: Harness) -> None:
    await _project(bot)
    name, content = await export_bytes(bot, "all")
    assert name == "acme-site-all-2026-12-01.zip"
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        inside = {member: archive.read(member) for member in archive.namelist()}
    kinds = ["tasks", "time", "spend", "risks", "history"]
    assert sorted(inside) == sorted(f"acme-site-{k}-2026-12-01.csv" for k in kinds)
    for kind in kinds:  # the same files as one at a time
        assert inside[f"acme-site-{kind}-2026-12-01.csv"] == (await export_bytes(bot, kind))[1]
    # Shown as text where files are not attached: the console, Teams.
    shown = await bot.say("ann", "export all")
    assert "--- acme-site-risks-2026-12-01.csv ---" in shown and "Vendor late" in shown
    zip_file = File(name, content, mime="application/zip")
    card_text = json.dumps(list(elements_of(zip_file)))
    assert "acme-site-spend-2026-12-01.csv" in card_text and "Stock photos" in card_text


async def test_export_all_is_for_the_pm_only_and_never_where_a_client_reads(
    bot: Harness,
) -> None:
    await _project(bot)
    for refused in (
        await bot.say("bob", "export all"),
        await client_says(bot, "export all"),
        await bot.say("ann", "export all", channel=CLIENT),
    ):
        assert ".zip" not in refused and "1234" not in refused
