"""Who may do what, as a matrix: each role x each risk, decision, change, request, report
and export command. A refused command says why and changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from storage.models import ChangeRequest, ClientRequest, Decision, Project, Risk, Task
from tests.harness import Harness
from tests.project_setup import CLIENT, kickoff

ROLES = ("pm", "member", "client", "outsider")
A, R = True, False  # allowed, refused
MATRIX: list[tuple[str, tuple[bool, bool, bool, bool]]] = [
    # command                                  pm member client outsider
    ('risk add "New" likelihood:low impact:low', (A, A, R, R)),
    ("risk update 1 likelihood:low", (A, R, R, R)),
    ("risk close 1", (A, R, R, R)),
    ("risks", (A, A, A, R)),
    ('decision "Go"', (A, A, R, R)),
    ("decisions", (A, A, R, R)),
    ('change "Extra" cost:10 days:1', (A, R, R, R)),
    ("change approve 1", (R, R, A, R)),
    ("change approve 2 on-behalf", (A, R, R, R)),
    ('change decline 3 "no"', (R, R, A, R)),
    ("changes", (A, A, A, R)),
    ('request "Logo"', (A, R, A, R)),
    ("request 1 to-task @bob", (A, R, R, R)),
    ("request 2 to-change cost:5 days:1", (A, R, R, R)),
    ('request 3 answer "Yes"', (A, R, R, R)),
    ("requests", (A, A, A, R)),
    ("status", (A, A, A, R)),
    ("report", (A, A, A, R)),
    ("report internal", (A, A, R, R)),
    ("export tasks", (A, A, R, R)),
]
REFUSALS = (
    "is for",
    "Only the client",
    "internal",
    "raised by the client",
    "on-behalf",
    "shared with the client",
    "by its owner or the project's PM",
)


async def say_as(bot: Harness, role: str, line: str) -> str:
    if role == "client":
        return await bot.say("carol", line, channel=CLIENT, external=True)
    who = {"pm": "ann", "member": "bob", "outsider": "zed"}[role]
    return await bot.say(who, line)


async def fingerprint(bot: Harness) -> tuple:
    async with bot.sessions() as session:
        rows = []
        for model, columns in (
            (Risk, (Risk.number, Risk.likelihood, Risk.status)),
            (ChangeRequest, (ChangeRequest.number, ChangeRequest.status)),
            (ClientRequest, (ClientRequest.number, ClientRequest.status, ClientRequest.answer)),
            (Decision, (Decision.number,)),
            (Task, (Task.number,)),
            (Project, (Project.budget, Project.due_date)),
        ):
            rows.append(tuple((await session.execute(select(*columns))).all()))
            del model
        return tuple(rows)


async def prepared(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'risk add "Vendor" likelihood:high impact:high')
    for n in (1, 2, 3):
        await bot.say("ann", f'change "Change {n}" cost:100 days:1')
        await bot.say("carol", f'request "Request {n}"', channel=CLIENT, external=True)
    bot.take_posts()


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_may_do_what_it_may_and_is_refused_the_rest(
    bot: Harness, role: str
) -> None:
    await prepared(bot)
    column = ROLES.index(role)
    for line, allowed in MATRIX:
        before = await fingerprint(bot)
        out = await say_as(bot, role, line)
        assert "something went wrong" not in out, (role, line, out)
        refused = any(marker in out for marker in REFUSALS) and ("(only you can see this)" in out)
        if allowed[column]:
            assert not refused and "Usage:" not in out, (role, line, out)
        else:
            assert refused, (role, line, out)
            assert await fingerprint(bot) == before, (role, line)
            bot.take_posts()
            assert bot.posts == []


WORDS = [
    "risk", "add", "update", "close", "risks", "decision", "decisions", "change", "approve",
    "decline", "changes", "request", "requests", "to-task", "to-change", "answer", "status",
    "report", "export", "open", "all", "client", "internal", "on-behalf", "1", "2", "99", "-3",
    '"A b"', "@bob", "@nobody", "cost:5", "cost:-1", "days:x", "days:3", "likelihood:high",
    "impact:zzz", "owner:@bob", "review:2020-01-01", "due:fri", "why:", "tasks", "time",
]  # fmt: skip


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=7),
    role=st.sampled_from(ROLES),
)
async def test_random_lines_never_cause_an_unexpected_error(
    bot: Harness, words: list[str], role: str
) -> None:
    async with bot.sessions() as session:
        started = await session.scalar(select(Project.id))
    if started is None:
        await prepared(bot)
    out = await say_as(bot, role, " ".join(words))
    assert "something went wrong" not in out
