"""Erasure (`forget @person`, PM): the person's name and contact details become a pseudonym
in every table, their huddle answers' text is deleted, their numbers stay under the
pseudonym, the audit trail says that it happened (not what was erased), and a PM can never
erase someone known beyond the projects they lead."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery.outbox import enqueue
from bot.messages import Message, Text
from bot.requests import Actor, Place, Request
from storage.models import AuditEntry, ChannelLink, HuddleAnswer, Person, Project, Task, TimeEntry
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, kickoff, row
from tests.table_dump import dump_all_tables

ann_in_team = Place("console", "local", "team")
ANSWER = "Finished the zebra mockups for the landing page"


async def bobs_traces(bot: Harness) -> None:
    """bob everywhere: owner, logger, huddle answerer, named in text, audit lines, DMs."""
    await kickoff(bot)
    out = await bot.say("ann", 'task add "Ask bob about the fonts" @bob due:2026-12-04')
    assert "Usage" not in out, out
    await bot.say("bob", "log 2h task:1")
    await bot.say("bob", "task done 1")
    await bot.say("bob", "help", channel=None)  # a direct conversation with him
    await bot.say("ann", "huddle set time:09:30")
    out = await bot.say("bob", f'huddle answer "{ANSWER}" "Carousel" "none"', channel=None)
    assert "Usage" not in out, out
    out = await bot.say(
        "ann", 'risk add "bob may be away in January" likelihood:low impact:low owner:@bob'
    )
    assert "Usage" not in out, out
    # A digest of his answer in the outbox (JSON), as the huddle's would be.
    await queue(bot, "team", Message(blocks=(Text(f"Bob: {ANSWER} / none"),)))
    await bot.deliver()


async def queue(bot: Harness, channel: str, message: Message) -> None:
    """An outbox row for the project's `channel`, written directly (left pending)."""
    async with bot.sessions() as session, session.begin():
        project = await session.scalar(select(Project))
        enqueue(
            session,
            project_id=project.id,
            platform="console",
            tenant="local",
            channel_id=channel,
            target_kind="channel",
            message=message,
            now=bot.clock(),
        )


def traces_of_bob(dump: str) -> list[str]:
    return [line for line in dump.splitlines() if re.search(r"bob", line, re.IGNORECASE)]


async def test_forget_leaves_no_trace_of_the_name_and_keeps_the_numbers(
    bot: Harness, db: AsyncEngine
) -> None:
    await bobs_traces(bot)
    before = await dump_all_tables(db)
    tables = {line.split(":")[0] for line in traces_of_bob(before)}
    assert {"people", "tasks", "risks", "audit_entries", "conversations", "deliveries"} <= tables
    assert ANSWER in before and '"none"' in before
    reply = await bot.say("ann", "forget @bob")
    assert "Forgotten" in reply, reply
    dump = await dump_all_tables(db)
    assert traces_of_bob(dump) == []
    assert ANSWER not in dump and '"none"' not in dump
    forgotten = await row(bot, Person, id=(await row(bot, TimeEntry)).person_id)
    assert forgotten.display_name.startswith("Forgotten person")
    assert forgotten.external_id.startswith("forgotten-") and forgotten.timezone is None
    # The numbers stay, under the pseudonym.
    entry = await row(bot, TimeEntry)
    assert entry.hours == 2 and entry.cost == 200
    task = await row(bot, Task, number=1)
    assert task.owner_id == forgotten.id and task.status == "done"
    answer = await row(bot, HuddleAnswer, person_id=forgotten.id)
    assert answer.answers == [] and answer.blockers is None
    # The team still sees the work, attributed to the pseudonym.
    assert forgotten.display_name in await bot.say("ann", "history")


async def test_the_audit_trail_records_the_erasure_not_the_erased(
    bot: Harness, db: AsyncEngine
) -> None:
    await bobs_traces(bot)
    await bot.say("ann", "forget @bob")
    async with bot.sessions() as session:
        last = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert last is not None and last.command == "forget"
    assert last.line.startswith("forget @Forgotten person") and "bob" not in last.line
    assert "forget @Forgotten person" in await bot.say("ann", "history")


async def test_someone_on_another_pms_project_is_refused(bot: Harness, db: AsyncEngine) -> None:
    await bobs_traces(bot)
    await bot.say("dave", 'project new "Beta" client:"Beta Inc"', channel="beta")
    await bot.say("dave", "team add @bob role:member", channel="beta")
    before = await dump_all_tables(db)
    refused = await bot.say("ann", "forget @bob")
    assert "liaison forget" in refused and "Forgotten" not in refused
    assert await dump_all_tables(db) == before


async def test_someone_met_in_another_workspace_is_refused(bot: Harness, db: AsyncEngine) -> None:
    await bobs_traces(bot)
    elsewhere = Request(
        Actor("console", "other-org", "bob", "bob"), Place("console", "other-org", "x"), "help"
    )
    await bot.engine.handle(elsewhere)
    before = await dump_all_tables(db)
    refused = await bot.say("ann", "forget @bob")
    assert "liaison forget" in refused and await dump_all_tables(db) == before


async def test_only_a_pm_on_the_team_side_forgets_and_never_themselves_or_a_pm(
    bot: Harness, db: AsyncEngine
) -> None:
    await bobs_traces(bot)
    await bot.say("ann", "team add @amy role:pm")
    before = await dump_all_tables(db)
    assert "Forgotten" not in await bot.say("bob", "forget @carol")
    assert "Forgotten" not in await client_says(bot, "forget @bob")
    assert "Forgotten" not in await bot.say("ann", "forget @bob", channel=CLIENT)
    assert "Forgotten" not in await bot.say("ann", "forget @ann")
    assert "Forgotten" not in await bot.say("ann", "forget @amy")
    assert "don't know" in await bot.say("ann", "forget @nobody")
    assert await dump_all_tables(db) == before


async def test_a_client_only_on_the_pms_project_can_be_forgotten(
    bot: Harness, db: AsyncEngine
) -> None:
    await kickoff(bot)
    await client_says(bot, 'request "carol needs the logo files"')
    assert "Forgotten" in await bot.say("ann", "forget @carol")
    assert "carol" not in (await dump_all_tables(db)).lower()


async def test_a_pms_erasure_changes_nothing_outside_the_projects_they_lead(
    bot: Harness, db: AsyncEngine
) -> None:
    await bobs_traces(bot)
    await bot.say("dave", 'project new "Beta" client:"Beta Inc"', channel="beta")
    await bot.say(
        "dave", 'task add "Ask bob for the old files" @dave due:2026-12-09', channel="beta"
    )
    assert "Forgotten" in await bot.say("ann", "forget @bob")
    beta = await row(bot, Task, title="Ask bob for the old files")
    assert beta is not None  # dave's project is dave's: only the operator reaches it


async def test_a_name_that_is_also_a_word_of_the_structure_breaks_nothing(
    bot: Harness, db: AsyncEngine
) -> None:
    """Someone called "team" (the console's team channel id and a link's side) or "Text"
    (a block type in every outbox message)."""
    await kickoff(bot)
    for name in ("team", "Text"):
        await bot.say("ann", f"team add @{name} role:member")
    await queue(bot, "acme-shared", Message(blocks=(Text("still delivered"),), audience="client"))
    for name in ("team", "Text"):  # through the engine alone: the row stays pending
        forget = Request(Actor("console", "local", "ann", "ann"), ann_in_team, f"forget @{name}")
        reply = await bot.engine.handle(forget)
        assert "Forgotten" in str(reply), reply
    link = await row(bot, ChannelLink, side="team")
    assert link is not None and link.channel_id == "team"
    assert await bot.deliver() == 1  # the outbox still reads its message
    assert "still delivered" in bot.take_posts()


async def test_slack_mentions_and_ids_are_erased_too(bot: Harness, db: AsyncEngine) -> None:
    """Slack lines carry `<@U0BOB|bob>`: the id and the name it was typed with go too."""
    ann = Actor("slack", "T0ACME", "U0ANN", "Ann")
    bob = Actor("slack", "T0ACME", "U0BOB", "Bob Builder")
    team = Place("slack", "T0ACME", "C0TEAM")

    async def says(actor: Actor, line: str) -> str:
        reply = str(await bot.engine.handle(Request(actor, team, line)))
        assert "Usage" not in reply, reply
        return reply

    await says(ann, 'project new "Acme Site" client:"Acme Corp"')
    await says(ann, "team add <@U0BOB|bob> role:member")
    await says(bob, "help")
    await says(ann, 'task add "Pair with Bob Builder" <@U0BOB|bob> due:2026-12-04')
    await says(bob, "log 1h task:1")
    before = await dump_all_tables(db)
    assert "U0BOB" in before and "Bob Builder" in before
    assert "Forgotten" in await says(ann, "forget <@U0BOB|bob>")
    dump = await dump_all_tables(db)
    assert "U0BOB" not in dump and traces_of_bob(dump) == []
