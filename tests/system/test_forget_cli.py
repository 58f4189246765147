"""`liaison forget --platform P --user ID` (the operator): erases a person everywhere, also
where no PM may (several projects, several workspaces), and records that it happened in
each workspace's audit trail, under the pseudonym."""

from __future__ import annotations

import asyncio
import subprocess

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.requests import Actor, Place, Request
from storage.models import AuditEntry, Tenant
from tests.commands.test_erasure import ANSWER, bobs_traces, traces_of_bob
from tests.harness import Harness
from tests.processes import LIAISON, ROOT, clean_environment
from tests.table_dump import dump_all_tables


def forget(db_url: str, platform: str, user: str) -> subprocess.CompletedProcess[str]:
    env = {**clean_environment(), "LIAISON_DATABASE_URL": db_url}
    return subprocess.run(
        [str(LIAISON), "forget", "--platform", platform, "--user", user],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


async def test_the_operator_forgets_someone_everywhere(
    bot: Harness, db: AsyncEngine, db_url: str
) -> None:
    await bobs_traces(bot)
    await bot.say("dave", 'project new "Beta" client:"Beta Inc"', channel="beta")
    await bot.say("dave", 'task add "Pair with bob" @bob due:2026-12-09', channel="beta")
    elsewhere = Place("console", "other-org", "x")
    await bot.engine.handle(Request(Actor("console", "other-org", "bob", "bob"), elsewhere, "help"))
    assert "liaison forget" in await bot.say("ann", "forget @bob")  # beyond any one PM
    done = await asyncio.to_thread(forget, db_url, "console", "bob")
    assert done.returncode == 0, done.stderr
    assert "Forgotten person" in done.stdout
    dump = await dump_all_tables(db)
    assert traces_of_bob(dump) == [] and ANSWER not in dump
    async with bot.sessions() as session:
        entries = (
            await session.execute(
                select(Tenant.external_id, AuditEntry.line)
                .join(Tenant, Tenant.id == AuditEntry.tenant_id)
                .where(AuditEntry.command == "forget")
            )
        ).all()
    assert sorted(t for t, _ in entries) == ["local", "other-org"]
    assert all(line.startswith("forget @Forgotten person") for _, line in entries)


async def test_an_unknown_id_changes_nothing_and_says_so(
    bot: Harness, db: AsyncEngine, db_url: str
) -> None:
    await bobs_traces(bot)
    before = await dump_all_tables(db)
    done = await asyncio.to_thread(forget, db_url, "slack", "U0NOBODY")
    assert done.returncode == 1 and "no slack user" in done.stderr
    assert "Traceback" not in done.stderr
    assert await dump_all_tables(db) == before
