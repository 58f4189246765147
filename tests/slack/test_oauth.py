"""Multi-workspace mode: install through OAuth, keep tokens in our database, use them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from bot.delivery.vocabulary import DeliveryError, Target
from bot.messages import Message, Text
from tests.fakes.slack_events import event_payload
from tests.fakes.slack_world import SlackWorld, slack_world

OAUTH = {
    "SLACK_BOT_TOKEN": None,
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "oauth-secret",
    "LIAISON_PUBLIC_URL": "https://bot.example.com",
}


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url, **OAUTH) as world:
        yield world


async def install(world: SlackWorld) -> None:
    page = await world.http.get("/slack/install")
    assert page.status == 200
    html = await page.text()
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', html)
    assert link, html
    assert "client_id=1111.2222" in link.group(1)
    assert "chat%3Awrite" in link.group(1) or "chat:write" in link.group(1)
    state = re.search(r"state=([^&\"]+)", link.group(1))
    assert state
    cookie = page.headers["Set-Cookie"].split(";")[0]
    done = await world.http.get(
        f"/slack/oauth_redirect?code=install-code&state={state.group(1)}",
        headers={"Cookie": cookie},
    )
    assert done.status == 200, await done.text()
    (exchange,) = world.api.calls_to("oauth.v2.access")
    assert exchange.args["code"] == "install-code"
    assert exchange.args["redirect_uri"] == "https://bot.example.com/slack/oauth_redirect"


async def test_install_stores_the_workspace_token_in_our_database(world: SlackWorld) -> None:
    await install(world)
    async with world.runtime.db.connect() as connection:
        rows = (await connection.execute(text("SELECT team_id, bot_token FROM slack_bots"))).all()
    ((team, sealed),) = rows
    assert team == "T0001" and world.runtime.secrets.open(sealed) == "xoxb-T0001" != sealed


async def test_requests_and_deliveries_use_the_installed_token(world: SlackWorld) -> None:
    await install(world)
    ack = await world.command("projects")
    assert ack["blocks"][0]["text"]["text"] == "Your projects"
    assert {c.token for c in world.api.calls_to("users.info")} == {"xoxb-T0001"}
    deliverer = world.runtime.deliverers["slack"]
    await deliverer.deliver(
        Target("slack", "T0001", "C0TEAM", "channel"), Message(blocks=(Text("hello"),))
    )
    assert world.api.calls_to("chat.postMessage")[-1].token == "xoxb-T0001"


async def test_a_workspace_without_installation_is_unreachable(world: SlackWorld) -> None:
    with pytest.raises(DeliveryError) as caught:
        await world.runtime.deliverers["slack"].deliver(
            Target("slack", "T9999", "C1", "channel"), Message(blocks=(Text("hello"),))
        )
    assert caught.value.unreachable


async def test_a_request_from_a_workspace_that_never_installed_is_not_run(
    world: SlackWorld,
) -> None:
    response = await world.slack.command("projects", response_url=world.api.response_url())
    assert response.status == 200
    (told,) = await world.api.wait_for("response_url")
    assert "reinstall" in told.args["text"]
    assert world.api.calls_to("users.info") == []


async def test_in_a_shared_channel_the_token_comes_from_the_events_authorizations(
    world: SlackWorld,
) -> None:
    await install(world)
    await world.command('project new "Acme Site" client:"Acme" budget:$20k')
    await world.command("project link client", channel="C0SHARED")
    # Carol's own workspace is the outer team; the installation that receives it is ours.
    payload = event_payload(
        "app_mention",
        user="U0CAROL",
        channel="C0SHARED",
        text="<@UBOT> status",
        team="T0CLIENT",
        user_team="T0CLIENT",
    )
    payload.update(team_id="T0CLIENT", is_ext_shared_channel=True)
    response = await world.slack.event(payload)
    assert response.status == 200
    (post,) = await world.api.wait_for("chat.postMessage")
    assert post.token == "xoxb-T0001"
    assert post.args["channel"] == "C0SHARED"
    assert "Acme Site: status" in post.args["text"] and "20,000" not in post.args["text"]
