"""Security at the HTTP level: correctly signed Slack requests to the real application.

- The role x command matrix: every registered command, as the PM, a member, a colleague
  with the client role, a Slack Connect client and a colleague on no project; refused
  exactly when the command's roles exclude the asker, and a refusal changes nothing.
- A client actor cannot reach internal data through any command, button value or modal
  submit, forged ones included: nothing they are shown, nothing posted where they are and
  nothing queued for those places carries an internal fact."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from adapters.slack.views import FORM_CALLBACK, TASK_CALLBACK
from bot.commands import ALL_MODULES
from bot.engine.registry import Registry
from tests.served_app import ServedApp
from tests.slack_requests import SlackUser
from tests.system_world import (
    ANN,
    BOB,
    CAROL,
    ERIN,
    MARKERS,
    SHARED_CHANNEL,
    TEAM_CHANNEL,
    ZED,
    project_world,
    seen_by,
)

REGISTRY = Registry.from_modules(ALL_MODULES)
COMMANDS = [spec.name for spec in REGISTRY.all()]
REFUSAL = re.compile(r"`[a-z -]+` is for ")
# Bookkeeping a request may touch even when its command is refused: none. A refusal rolls
# the whole unit of work back, the asker's own records included.
ROLES: dict[str, tuple[SlackUser, str, str | None]] = {
    "pm": (ANN, TEAM_CHANNEL, "pm"),
    "member": (BOB, TEAM_CHANNEL, "member"),
    "client-role colleague": (ERIN, TEAM_CHANNEL, "client"),
    "Slack Connect client": (CAROL, SHARED_CHANNEL, "client"),
    "colleague on no project": (ZED, TEAM_CHANNEL, None),
}


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[ServedApp]:
    async with project_world(db_url) as app:
        yield app


async def test_every_command_is_refused_exactly_when_the_askers_role_excludes_it(
    world: ServedApp,
) -> None:
    wrong: list[tuple[str, str, str]] = []
    for label, (user, channel, role) in ROLES.items():
        for name in COMMANDS:
            before = await world.row_counts()
            reply = await world.slash(user, name, channel_id=channel)
            assert reply.status == 200, (label, name)
            assert "went wrong" not in reply.text, (label, name, reply.text[:500])
            refused = bool(REFUSAL.search(reply.text))
            allowed = REGISTRY.get(name).allows(role)  # type: ignore[union-attr]
            if refused == allowed:
                wrong.append((label, name, reply.text[:200]))
            if refused:
                assert await world.row_counts() == before, (label, name)
    assert wrong == []


# Lines a client might try beyond each bare command name: every way in to internal data.
PROBES = (
    "risks all",
    "risk update 1 client",
    "risk update 1 title:x",
    "report internal",
    "report client",
    "export tasks",
    "export time",
    "export spend",
    "export risks",
    "tasks all",
    "tasks <@U0BOB|bob>",
    "budget",
    "decisions",
    "huddle",
    "outbox failed",
    "team",
    'status project:"Acme Site"',
    'risks project:"Acme Site"',
    "help budget",
    "milestones",
    "changes",
    "requests",
)
CLIENTS: dict[str, tuple[SlackUser, str]] = {
    "Slack Connect client in the shared channel": (CAROL, SHARED_CHANNEL),
    "Slack Connect client in the team channel": (CAROL, TEAM_CHANNEL),
    "Slack Connect client in a DM": (CAROL, "D0CAROL"),
    "client-role colleague in the team channel": (ERIN, TEAM_CHANNEL),
    "client-role colleague in a DM": (ERIN, "D0ERIN"),
}


async def _each(jobs: list[Callable[[], Awaitable[str]]], limit: int = 4) -> list[str]:
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[str]]) -> str:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))


def _asks(
    app: ServedApp, user: SlackUser, channel: str, *, buttons: bool
) -> list[Callable[[], Awaitable[str]]]:
    """Every command and probe typed, and (with `buttons`) pressed as forged buttons."""

    async def slash(line: str) -> str:
        return (await app.slash(user, line, channel_id=channel)).text

    async def press(action_id: str, value: str) -> str:
        return (await app.press(user, action_id, value, channel_id=channel)).text

    jobs: list[Callable[[], Awaitable[str]]] = [
        lambda line=line: slash(line) for line in (*COMMANDS, *PROBES)
    ]
    if not buttons:
        return jobs
    for action in COMMANDS:
        jobs.append(lambda a=f"{action}|9", v="1": press(a, v))
    for probe in PROBES:
        action, _, value = probe.partition(" ")
        jobs.append(lambda a=action, v=value: press(a, v))
    return jobs


async def _submits(app: ServedApp, user: SlackUser, channel: str) -> list[str]:
    """Forged modal submits: any command as the form's action, with the form's fields."""
    answers = []
    for probe in ("risks all", "report internal", "huddle answer", "export time"):
        action, _, value = probe.partition(" ")
        status, body = await app.submit(
            user,
            callback_id=FORM_CALLBACK,
            private_metadata=json.dumps({"a": action, "v": value, "c": channel}),
            values={"answer": {"a": {"type": "plain_text_input", "value": "x"}}},
        )
        assert status == 200
        answers.append(body)
    status, body = await app.submit(
        user,
        callback_id=TASK_CALLBACK,
        private_metadata=json.dumps({"c": channel}),
        values={"title": {"t": {"type": "plain_text_input", "value": "risks all"}}},
    )
    assert status == 200
    return [*answers, body]


async def test_a_client_reaches_no_internal_data_by_command_button_or_form(
    world: ServedApp,
) -> None:
    start = len(world.api.calls)
    answers: list[str] = []
    for number, (user, channel) in enumerate(CLIENTS.values()):
        answers += await _each(_asks(world, user, channel, buttons=number in (0, 3)))
        answers += await _submits(world, user, channel)
    await asyncio.sleep(0.2)  # anything sent after an acknowledgement
    keys = {str(c.args.get("key")) for c in world.api.calls[start:] if c.method == "response_url"}
    leaks = [(m, a) for a in answers for m in MARKERS if m in a]
    assert leaks == []
    assert any("Acme Site" in a for a in answers)  # the client did get answers
    for label, (user, _) in CLIENTS.items():
        # Where the client is: their DM, the shared channel (not the team's own channel,
        # where internal posts belong), and whatever was answered to them.
        places = {user.user_id, f"D0{user.name.upper()}"}
        if user is CAROL:
            places.add(SHARED_CHANNEL)
        seen = await seen_by(world, user, keys, places)
        assert seen.leaks() == [], label


async def test_the_team_does_see_the_internal_facts(world: ServedApp) -> None:
    """The markers are real: the same probes as the PM show them (so the test above could
    fail)."""
    shown = []
    for line in ("risks", "budget", "decisions", "team", "export spend"):
        shown.append((await world.slash(ANN, line, channel_id=TEAM_CHANNEL)).text)
    text = "\n".join(shown)
    for marker in ("INTERNAL-RISK-ZEBRA", "INTERNAL-DECISION-IBEX", "48,765"):
        assert marker in text
