"""What a client sees of a project's end, over HTTP in Slack: the closing summary, the
survey, the client status with its links, and everything posted or queued where they are,
carry no internal fact: no amount but the approved change's own price, no rate, no
internal risk, no retrospective text, no team-only link, nothing of the final report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.schedule.step import run_due
from storage.models import Project
from tests.served_app import ServedApp
from tests.system_world import (
    ANN,
    BOB,
    CAROL,
    MARKERS,
    SHARED_CHANNEL,
    TEAM_CHANNEL,
    project_world,
    seen_by,
)

CLOSEOUT_MARKERS = (
    *MARKERS,
    "RETRO-TEXT-QUOKKA",
    "RETRO-CHANGE-AXOLOTL",
    "INTERNAL-LINK-GNU",
    "internal.example",
    "Final report",
    "Variance",
    "Hours logged",
    "Spent",
)


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[ServedApp]:
    async with project_world(db_url) as app:
        yield app


async def test_a_client_sees_nothing_internal_of_the_projects_end(world: ServedApp) -> None:
    team_lines = (
        'link add "INTERNAL-LINK-GNU" https://internal.example/margins',
        'link add "Statement of work" https://docs.example/sow client',
    )
    for line in team_lines:
        assert "added" in (await world.slash(ANN, line, channel_id=TEAM_CHANNEL)).text
    answers = [(await world.slash(CAROL, "change approve 1", channel_id=SHARED_CHANNEL)).text]
    closed = await world.slash(ANN, "project close", channel_id=TEAM_CHANNEL)
    assert "is closed" in closed.text
    retro = await world.slash(
        BOB, 'retro "RETRO-TEXT-QUOKKA" "RETRO-CHANGE-AXOLOTL"', channel_id=TEAM_CHANNEL
    )
    assert "Thanks" in retro.text
    for line in (
        'survey 4 8 "Nice work"',
        "survey 9 9",
        "status",
        "links",
        "report final",
        "projects all",
        'retro "x" "y"',
        "changes",
    ):
        answers.append((await world.slash(CAROL, line, channel_id=SHARED_CHANNEL)).text)
    async with world.runtime.sessions() as session:
        until = await session.scalar(select(Project.retro_until))
    assert until is not None
    await run_due(world.runtime.sessions, until + timedelta(minutes=1))
    leaks = [(m, a[:200]) for a in answers for m in CLOSEOUT_MARKERS if m in a]
    assert leaks == []
    status = answers[3]
    assert "Statement of work: https://docs.example/sow" in status
    seen = await seen_by(world, CAROL, set(), {SHARED_CHANNEL, CAROL.user_id, "D0CAROL"})
    shown = "\n".join(seen.texts)
    assert "Acme Site is complete" in shown and "Extra page: 2 days, USD 900.00" in shown
    assert [(m, t) for t in seen.texts for m in CLOSEOUT_MARKERS if m in t] == []
    # The same facts did reach the team: the scan above could fail.
    team = await seen_by(world, ANN, set(), {TEAM_CHANNEL})
    team_text = "\n".join(team.texts)
    assert "RETRO-TEXT-QUOKKA" in team_text
