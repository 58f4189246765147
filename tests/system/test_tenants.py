"""Cross-tenant isolation at the HTTP level: Liaison installed by OAuth in two Slack
workspaces, each with its own bot token, and signed requests from both. A project of one
workspace is invisible and untouchable from the other (even under the same name, even
with the other workspace's channel id forged into a request), and every Web API call made
for a request uses the token of the workspace that asked."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import func, select

from adapters.slack.oauth import installation_store
from bot.settings import load_settings
from storage.models import Delivery, Project, Risk, Task
from tests.fakes.slack_api import Call, FakeSlackApi
from tests.served_app import ServedApp
from tests.slack_requests import SlackUser

ALPHA, BETA = "T0ALPHA", "T0BETA"
TOKENS = {ALPHA: "xoxb-alpha-1111-secret", BETA: "xoxb-beta-2222-secret"}
CLIENT_ID = "1000.2000"
ANN = SlackUser("U0ANN", ALPHA, "Ann", team_domain="alpha")
DAVE = SlackUser("U0DAVE", BETA, "Dave", team_domain="beta")
ANN_CHANNEL, DAVE_CHANNEL = "C0ALPHA", "C0BETA"
SECRETS = ("INTERNAL-RISK-ZEBRA", "48,765", "Alpha-only task")


@dataclass
class TwoWorkspaceSlackApi(FakeSlackApi):
    """auth.test answers for the workspace whose token is presented, as Slack does."""

    teams: dict[str, str] = field(default_factory=dict)  # token -> team

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"] != "auth.test":
            return await super()._api(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        await self._record(Call("auth.test", {}, token))
        team = self.teams.get(token)
        if team is None:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(
            {"ok": True, "team_id": team, "user_id": f"UBOT{team}", "bot_id": f"B{team}"}
        )


async def install(db_url: str, app: ServedApp) -> None:
    store = installation_store(
        load_settings(SLACK_CLIENT_ID=CLIENT_ID, LIAISON_DATABASE_URL=db_url), app.runtime.db
    )
    for team, token in TOKENS.items():
        await store.async_save(
            Installation(
                app_id="A0LIAISON",
                team_id=team,
                bot_token=token,
                bot_id=f"B{team}",
                bot_user_id=f"UBOT{team}",
                bot_scopes="commands,chat:write",
                user_id="U0INSTALLER",
                installed_at=time.time(),
            )
        )


@pytest.fixture
async def two_workspaces(db_url: str) -> AsyncIterator[ServedApp]:
    async with TwoWorkspaceSlackApi(teams={t: team for team, t in TOKENS.items()}) as api:
        api.add_user(ANN.user_id, ANN.name, team_id=ALPHA)
        api.add_user(DAVE.user_id, DAVE.name, team_id=BETA)
        api.add_channel(ANN_CHANNEL, "acme-team")
        api.add_channel(DAVE_CHANNEL, "acme-team")
        settings = {
            "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": "client-secret-3333",
            "SLACK_BOT_TOKEN": "",
        }
        async with ServedApp.start(db_url, api, **settings) as app:
            await install(db_url, app)
            yield app


async def say(
    app: ServedApp, user: SlackUser, line: str, channel: str, *, strict: bool = True
) -> tuple[str, list[Call]]:
    """The reply, and the Web API calls made while answering it."""
    start = len(app.api.calls)
    reply = await app.slash(user, line, channel_id=channel)
    assert reply.status == 200, (line, reply)
    if strict:
        assert "went wrong" not in reply.text, (line, reply.text)
    return reply.text, app.api.calls[start:]


async def fingerprint(app: ServedApp, name: str, tenant: str) -> tuple[object, ...]:
    async with app.runtime.sessions() as session:
        project = await session.scalar(
            select(Project).where(Project.name == name, Project.tenant_id.in_(_tenant(tenant)))
        )
        assert project is not None
        tasks = (
            await session.execute(
                select(Task.number, Task.status, Task.title).where(Task.project_id == project.id)
            )
        ).all()
        risks = await session.scalar(
            select(func.count()).select_from(Risk).where(Risk.project_id == project.id)
        )
        return (project.budget, project.due_date, tuple(sorted(tasks)), risks)


def _tenant(external_id: str):  # noqa: ANN202
    from storage.models import Tenant

    return select(Tenant.id).where(Tenant.external_id == external_id)


def tokens_of(calls: list[Call]) -> set[str | None]:
    # response_url and the upload URL are pre-authorised URLs: no token is sent there.
    return {c.token for c in calls if c.method not in ("response_url", "upload")}


async def test_a_workspace_cannot_see_or_touch_another_workspaces_project(
    two_workspaces: ServedApp,
) -> None:
    app = two_workspaces
    ann_lines = (
        'project new "Acme Site" client:"Acme" budget:48765 due:2027-06-30',
        'risk add "INTERNAL-RISK-ZEBRA" likelihood:high impact:high',
        'task add "Alpha-only task" <@U0ANN|ann> due:2027-01-15',
    )
    for line in ann_lines:
        text, calls = await say(app, ANN, line, ANN_CHANNEL)
        assert "Usage:" not in text, text
        assert tokens_of(calls) <= {TOKENS[ALPHA]}
    # Dave starts a project of the same name in his own workspace.
    text, _ = await say(app, DAVE, 'project new "Acme Site" client:"Other"', DAVE_CHANNEL)
    assert "started" in text
    before = await fingerprint(app, "Acme Site", ALPHA)
    attempts = [
        ("status", DAVE_CHANNEL),
        ("risks all", DAVE_CHANNEL),
        ("tasks all", DAVE_CHANNEL),
        ("budget", DAVE_CHANNEL),
        ("projects", DAVE_CHANNEL),
        ('status project:"Acme Site"', "D0DAVE"),
        # Ann's channel id forged into requests signed for Dave's workspace.
        ("status", ANN_CHANNEL),
        ("risks all", ANN_CHANNEL),
        ("tasks all", ANN_CHANNEL),
        ("budget", ANN_CHANNEL),
        ("task done 1", ANN_CHANNEL),
        ("budget set 1", ANN_CHANNEL),
        ('task add "Injected" <@U0DAVE|dave> due:2027-01-20', ANN_CHANNEL),
    ]
    for line, channel in attempts:
        text, calls = await say(app, DAVE, line, channel)
        assert not [s for s in SECRETS if s in text], (line, channel, text[:400])
        assert tokens_of(calls) <= {TOKENS[BETA]}, (line, channel)
        press = await app.press(DAVE, "task done|1", "1", channel_id=channel)
        assert press.status == 200 and not [s for s in SECRETS if s in press.text]
    assert await fingerprint(app, "Acme Site", ALPHA) == before
    # And the other way round: Ann's view holds only her workspace's project.
    text, _ = await say(app, ANN, "projects", ANN_CHANNEL)
    assert "Acme (" in text or "Acme Site" in text
    assert "Other" not in text
    text, _ = await say(app, ANN, "tasks all", ANN_CHANNEL)
    assert "Alpha-only task" in text and "Injected" not in text


async def test_linking_a_channel_another_workspace_linked_is_refused_clearly(
    two_workspaces: ServedApp,
) -> None:
    """In a Slack Connect channel both workspaces see the same channel id."""
    app = two_workspaces
    await say(app, ANN, 'project new "Acme Site" client:"Acme"', ANN_CHANNEL)
    await say(app, DAVE, 'project new "Beta Site" client:"Other"', DAVE_CHANNEL)
    before = await fingerprint(app, "Acme Site", ALPHA)
    text, _ = await say(app, DAVE, "project link client", ANN_CHANNEL, strict=False)
    assert await fingerprint(app, "Acme Site", ALPHA) == before
    assert "went wrong" not in text and "already" in text


async def test_a_mention_cannot_reach_a_person_of_another_workspace(
    two_workspaces: ServedApp,
) -> None:
    """The review's attack: in workspace A, `team add` and `task add` naming a user of
    workspace B made Liaison DM him in B with B's token."""
    app = two_workspaces
    await say(app, DAVE, 'project new "Beta Site" client:"Other"', DAVE_CHANNEL)  # met in B
    await say(app, ANN, 'project new "Acme Site" client:"Acme"', ANN_CHANNEL)
    lure = '"Your session expired - log in at https://evil.example"'
    for line in ("team add <@U0DAVE|dave>", f"task add {lure} <@U0DAVE|dave> due:2027-01-20"):
        text, calls = await say(app, ANN, line, ANN_CHANNEL)
        assert "haven't met @dave here" in text, (line, text)
        assert tokens_of(calls) <= {TOKENS[ALPHA]}, line
    async with app.runtime.sessions() as session:
        titles = (await session.scalars(select(Task.title))).all()
        into_b = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.tenant == BETA)
        )
    assert not [t for t in titles if "evil" in t] and into_b == 0
    assert not [c for c in app.api.calls if "evil" in str(c.args)]
