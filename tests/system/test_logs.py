"""No secret or token in any log line: `liaison serve` at DEBUG (every library's logging
on, SQL statements and their parameters included) with known fake credentials, driven
through good requests, refused ones, malformed ones, and Slack API failures during
delivery. Single-workspace mode runs on SQLite; OAuth mode, whose bot tokens live in the
database, on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.slack.oauth import installation_store
from bot.settings import load_settings
from storage.db import create_engine
from tests.fakes.slack_api import FakeSlackApi
from tests.processes import LiaisonProcess
from tests.served_app import SlackClient
from tests.slack_requests import SlackSigner, slash_command
from tests.system_cluster import (
    ANN,
    SHARED_CHANNEL,
    TEAM_CHANNEL,
    add_people,
    open_deliveries,
    queue_posts,
    until,
)

pytestmark = pytest.mark.slow
BOT_TOKEN = "xoxb-4242-1717-Zq9SECRETBOTTOKENx7"
SIGNING_SECRET = "sgn9SECRETSIGNINGf00d"
CLIENT_SECRET = "cl1SECRETCLIENTba5e"
APP_PASSWORD = "pw7SECRETAPPPASSWORD"
SECRETS = (BOT_TOKEN, BOT_TOKEN.removeprefix("xoxb-"), SIGNING_SECRET, CLIENT_SECRET, APP_PASSWORD)


def serve(db_url: str, api: FakeSlackApi, log: Path, *, oauth: bool) -> LiaisonProcess:
    env = {
        "LIAISON_LOG_LEVEL": "DEBUG",
        "LIAISON_SCHEDULER_INTERVAL_SECONDS": "1",
        "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
    }
    if oauth:
        env |= {"SLACK_CLIENT_ID": "1000.2000", "SLACK_CLIENT_SECRET": CLIENT_SECRET}
    return LiaisonProcess(
        database_url=db_url,
        log_path=log,
        slack_api_url=api.url,
        signing_secret=SIGNING_SECRET,
        bot_token=None if oauth else BOT_TOKEN,
        scheduler=True,
        extra_env=env,
    )


async def install(db_url: str) -> None:
    engine = create_engine(db_url)
    store = installation_store(load_settings(SLACK_CLIENT_ID="1000.2000"), engine)
    await store.async_save(
        Installation(
            app_id="A0LIAISON",
            team_id=ANN.team_id,
            bot_token=BOT_TOKEN,
            bot_id="B0001",
            bot_user_id="UBOT",
            user_id="U0ANN",
            installed_at=time.time(),
        )
    )
    await engine.dispose()


async def drive(client: SlackClient, api: FakeSlackApi) -> None:
    """Good commands, a chart upload, refusals, bad signatures, malformed bodies."""
    for line, channel in (
        ('project new "Acme Site" client:"Acme" budget:50k', TEAM_CHANNEL),
        ("project link client", SHARED_CHANNEL),
        ("budget", TEAM_CHANNEL),
        ('change "Extra" cost:10 days:1', TEAM_CHANNEL),
        ("no such command", TEAM_CHANNEL),
    ):
        await client.slash(ANN, line, channel_id=channel)
    body = slash_command(ANN, "status", channel_id=TEAM_CHANNEL, response_url=api.response_url())
    for headers in (
        SlackSigner("not-the-secret").headers(body),
        client.signer.headers(body, timestamp=int(time.time()) - 3600),
        {"Content-Type": "application/x-www-form-urlencoded"},
    ):
        await client.post("/slack/events", body, headers)
    await client.post("/slack/events", b'{"type": ', {"Content-Type": "application/json"})
    await client.post("/api/messages", b"[]", {"Content-Type": "application/json"})


@pytest.mark.parametrize("failure", [{"status": 429, "retry_after": 1}, {"error": "invalid_auth"}])
async def test_no_secret_or_token_reaches_any_log_line(
    db_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path, failure: dict
) -> None:
    oauth = db_url.startswith("postgresql")
    if oauth:
        await install(db_url)
    async with FakeSlackApi() as api, aiohttp.ClientSession() as http:
        add_people(api, ANN)
        process = serve(db_url, api, tmp_path / "serve.log", oauth=oauth).start()
        try:
            await process.wait_ready()
            client = SlackClient(url=process.url, http=http, api=api)
            client.signer = SlackSigner(SIGNING_SECRET)
            await drive(client, api)
            api.fail_next(method="chat.postMessage", times=2, **failure)
            await queue_posts(sessions, 3, 3)

            async def settled() -> bool:
                # Not just "failed": at DEBUG the retention step's SQL carries that word.
                gave_up = "failed for good" in process.logs()
                return gave_up or await open_deliveries(sessions) == 0

            await until(settled, 20, "deliveries tried")
            await asyncio.sleep(0.5)
        finally:
            process.stop()
    logs = process.logs()
    assert "debug" in logs and "chat.postMessage" in logs  # it did log, and in detail
    assert [s for s in SECRETS if s in logs] == []
    tokens = [c.token for c in api.calls if c.token]
    assert tokens and set(tokens) == {BOT_TOKEN}  # the token was in use all along
