"""POST /api/messages over HTTP: replies reach the activity's serviceUrl as Adaptive Cards;
with an app id every request needs a valid Bot Framework token."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest

from tests.fakes.bot_connector import ACCESS_TOKEN, FakeBotConnector, FakeBotFrameworkKeys
from tests.teams_support import (
    APP_ID,
    EMULATOR,
    TEAM_CHANNEL,
    message,
    sqlite_copy,
    teams_service,
    text_of,
)


async def test_the_emulator_gets_an_adaptive_card_reply_without_a_token(db_url: str) -> None:
    async with teams_service(db_url, **EMULATOR) as teams:
        activity = message("help", channel=None, service_url=teams.connector.url)
        assert await teams.post(activity) == 201
        (post,) = teams.connector.posts
    assert post.conversation_id == activity["conversation"]["id"]
    assert post.reply_to == activity["id"]
    card = post.card
    assert card is not None and card["version"] == "1.5" and card["type"] == "AdaptiveCard"
    assert "Liaison: what I can do" in post.card_text()
    assert post.activity["text"] and post.authorization is None


async def test_start_up_says_loudly_that_authentication_is_off(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="liaison.teams"):
        async with teams_service(sqlite_url, **EMULATOR):
            pass
    assert "WITHOUT AUTHENTICATION" in caplog.text and "MICROSOFT_APP_ID" in caplog.text


async def test_not_an_activity_is_a_client_error(sqlite_url: str) -> None:
    async with teams_service(sqlite_url) as teams:
        wrong_type = await teams.client.post("/api/messages", data="hi")
        no_type = await teams.client.post("/api/messages", json={"text": "hi"})
        broken = await teams.client.post(
            "/api/messages", data="{", headers={"Content-Type": "application/json"}
        )
        assert (wrong_type.status, no_type.status, broken.status) == (415, 400, 400)
        assert teams.connector.posts == []


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """For tests refused before any database work: one backend is enough."""
    return sqlite_copy(tmp_path, sqlite_template)


@pytest.fixture
def keys() -> Iterator[FakeBotFrameworkKeys]:
    with FakeBotFrameworkKeys() as served:
        yield served


def _secured(keys: FakeBotFrameworkKeys) -> dict[str, Any]:
    return {
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": "secret",
        "BOTFRAMEWORK_OPENID_METADATA_URL": keys.metadata_url,
        # Outbound tokens come from the fake connector's login endpoint.
        "BOTFRAMEWORK_LOGIN_URL": lambda connector: connector.login_url,
    }


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Basic dXNlcjpwYXNz",
        "bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
    ],
    ids=["none", "empty", "no-token", "garbage", "bad-segments", "basic", "lowercase-scheme"],
)
async def test_with_an_app_id_a_missing_or_malformed_token_is_401(
    sqlite_url: str, keys: FakeBotFrameworkKeys, header: str | None
) -> None:
    async with teams_service(sqlite_url, **_secured(keys)) as teams:
        activity = message("status", service_url=teams.connector.url)
        assert await teams.post(activity, token=header, unsigned=True) == 401
        assert teams.connector.posts == []


async def test_tokens_signed_by_someone_else_expired_or_for_another_bot_are_401(
    sqlite_url: str, keys: FakeBotFrameworkKeys
) -> None:
    async with teams_service(sqlite_url, **_secured(keys)) as teams:
        url = teams.connector.url
        activity = message("status", service_url=url)
        with FakeBotFrameworkKeys() as stranger:
            forged = stranger.token(app_id=APP_ID, service_url=url)
        forged = jwt.encode(
            jwt.decode(forged, options={"verify_signature": False}),
            stranger.key,
            algorithm="RS256",
            headers={"kid": keys.kid},  # claims to be signed by the served key
        )
        expired = keys.token(app_id=APP_ID, service_url=url, exp=1_000_000_000)
        other_bot = keys.token(app_id="11111111-2222-3333-4444-555555555555", service_url=url)
        elsewhere = keys.token(app_id=APP_ID, service_url="https://evil.example.com/")
        unknown_key = jwt.encode(
            {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": url},
            keys.key,
            algorithm="RS256",
            headers={"kid": "unknown"},
        )
        for token in (forged, expired, other_bot, elsewhere, unknown_key):
            assert await teams.post(activity, token=f"Bearer {token}") == 401
        assert teams.connector.posts == []


async def test_a_validly_signed_token_is_accepted_and_the_reply_is_authenticated(
    db_url: str, keys: FakeBotFrameworkKeys
) -> None:
    async with teams_service(db_url, **_secured(keys)) as teams:
        token = keys.token(app_id=APP_ID, service_url=teams.connector.url)
        activity = message(
            'project new "Acme Site" client:"Acme Corp"', service_url=teams.connector.url
        )
        assert await teams.post(activity, token=f"Bearer {token}") == 201
        (post,) = teams.connector.posts
        assert "Project Acme Site started" in text_of([post])
        # The reply carried a token from the (fake) login service, fetched once and cached.
        assert post.authorization == f"Bearer {ACCESS_TOKEN}"
        assert teams.connector.token_requests[0]["client_id"] == APP_ID
        assert teams.connector.token_requests[0]["scope"] == "https://api.botframework.com/.default"
        again = message("status", service_url=teams.connector.url, channel=TEAM_CHANNEL)
        assert await teams.post(again, token=f"Bearer {token}") == 201
        assert len(teams.connector.token_requests) == 1
        assert teams.connector.posts[-1].authorization == f"Bearer {ACCESS_TOKEN}"


async def test_when_the_signing_keys_cannot_be_fetched_the_answer_is_503(
    sqlite_url: str,
) -> None:
    with FakeBotFrameworkKeys() as keys:
        token = keys.token(app_id=APP_ID, service_url="http://127.0.0.1:9/")
    closed = "http://127.0.0.1:9/v1/.well-known/openidconfiguration"
    async with teams_service(
        sqlite_url,
        MICROSOFT_APP_ID=APP_ID,
        MICROSOFT_APP_PASSWORD="secret",
        BOTFRAMEWORK_OPENID_METADATA_URL=closed,
    ) as teams:
        activity = message("status", service_url="http://127.0.0.1:9/")
        # Not our caller's fault, and Bot Framework retries a 5xx.
        assert await teams.post(activity, token=f"Bearer {token}") == 503


@pytest.mark.slow
async def test_liaison_serve_answers_an_activity_with_a_card(tmp_path: Path) -> None:
    """The done-when of the issue, on the real command: no credentials, a reply card."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_", "SLACK_"))},
        "LIAISON_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "PORT": str(port),
        "LIAISON_SCHEDULER": "off",
        "LIAISON_TEAMS_EMULATOR": "1",
    }
    liaison = str(Path(sys.executable).with_name("liaison"))
    migrated = await asyncio.create_subprocess_exec(liaison, "migrate", env=env, cwd=tmp_path)
    assert await migrated.wait() == 0
    server = await asyncio.create_subprocess_exec(
        liaison, "serve", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with FakeBotConnector() as connector, aiohttp.ClientSession() as http:
            for _ in range(150):
                try:
                    async with http.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            activity = message("help", channel=None, service_url=connector.url)
            async with http.post(f"{base}/api/messages", json=activity) as response:
                assert response.status == 201
            (post,) = await connector.wait_for(1)
            assert post.card is not None and "Liaison: what I can do" in post.card_text()
    finally:
        server.terminate()
        _, logs = await server.communicate()
    assert b"WITHOUT AUTHENTICATION" in logs
