"""`liaison doctor` against the fake Slack and Bot Framework servers, with good and bad
settings: one line per check, non-zero exit when something needed is wrong."""

from __future__ import annotations

import time

from slack_sdk.oauth.installation_store import Installation

from adapters.doctor import run_doctor
from adapters.slack.oauth import installation_store
from bot.settings import load_settings
from storage.db import create_engine
from storage.secrets import SecretBox, new_key
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi


async def doctor(**values: str | None) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = await run_doctor(load_settings(**values), lines.append)
    return code, lines


async def test_good_settings_pass_every_check(db_url: str) -> None:
    async with FakeSlackApi() as api, FakeBotConnector() as connector:
        code, lines = await doctor(
            LIAISON_DATABASE_URL=db_url,
            SLACK_BOT_TOKEN="xoxb-good",
            SLACK_API_URL=api.url,
            MICROSOFT_APP_ID="app-id",
            MICROSOFT_APP_PASSWORD="app-password-SECRET",
            BOTFRAMEWORK_LOGIN_URL=connector.login_url,
        )
    assert code == 0, lines
    assert all(line.startswith("ok") for line in lines)
    assert any("database: answers" in line for line in lines)
    assert any("slack: SLACK_BOT_TOKEN works" in line for line in lines)
    assert any("teams: the app id and password get" in line for line in lines)
    assert [c.token for c in api.calls_to("auth.test")] == ["xoxb-good"]
    assert "SECRET" not in "\n".join(lines)


async def test_a_wrong_slack_token_fails_with_its_line_and_fix(db_url: str) -> None:
    async with FakeSlackApi() as api:
        api.fail_next(method="auth.test", error="invalid_auth")
        code, lines = await doctor(
            LIAISON_DATABASE_URL=db_url, SLACK_BOT_TOKEN="xoxb-wrong", SLACK_API_URL=api.url
        )
    assert code == 1
    (failure,) = [line for line in lines if line.startswith("FAIL")]
    assert "SLACK_BOT_TOKEN refused by auth.test (invalid_auth)" in failure
    assert "Fix: set SLACK_BOT_TOKEN" in failure and "xoxb-wrong" not in failure


async def test_stored_tokens_under_another_key_and_oauth_without_public_url(
    db_url: str,
) -> None:
    engine = create_engine(db_url)
    settings = load_settings(SLACK_CLIENT_ID="1000.2000", LIAISON_DATABASE_URL=db_url)
    store = installation_store(settings, engine, SecretBox(new_key()))
    await store.async_save(
        Installation(app_id="A0", team_id="T0001", bot_token="xoxb-1", bot_id="B1",
                     bot_user_id="UBOT", user_id="U0ANN", installed_at=time.time())
    )  # fmt: skip
    await engine.dispose()
    async with FakeSlackApi() as api:
        code, lines = await doctor(
            LIAISON_DATABASE_URL=db_url,
            SLACK_CLIENT_ID="1000.2000",
            SLACK_CLIENT_SECRET="x",
            SLACK_API_URL=api.url,
        )
    failures = "\n".join(line for line in lines if line.startswith("FAIL"))
    assert code == 1
    assert "secret key: a stored secret does not open" in failures
    assert "public URL: Slack OAuth needs it" in failures
    assert "database: answers" in "\n".join(lines)


async def test_an_unreachable_database_is_one_failing_line() -> None:
    code, lines = await doctor(LIAISON_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert code == 1
    assert any(line.startswith("FAIL database: does not answer") for line in lines)


async def test_the_command_line_exits_non_zero_on_a_wrong_token(
    db_url: str, monkeypatch, capsys  # noqa: ANN001
) -> None:
    import asyncio

    from adapters.cli import main

    async with FakeSlackApi() as api:
        api.fail_next(method="auth.test", error="invalid_auth")
        for name, value in {
            "LIAISON_DATABASE_URL": db_url,
            "SLACK_BOT_TOKEN": "xoxb-wrong",
            "SLACK_API_URL": api.url,
        }.items():
            monkeypatch.setenv(name, value)
        assert await asyncio.to_thread(main, ["doctor"]) == 1
    assert "FAIL slack: SLACK_BOT_TOKEN refused" in capsys.readouterr().out
