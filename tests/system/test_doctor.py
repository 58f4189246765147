"""`liaison doctor` against the fake Slack and Bot Framework servers, with good and bad
settings: one line per check, non-zero exit when something needed is wrong."""

from __future__ import annotations

import time
from pathlib import Path

from slack_sdk.oauth.installation_store import Installation

from adapters.doctor import run_doctor
from adapters.slack.oauth import installation_store
from bot.settings import load_settings
from storage.db import create_engine
from storage.secrets import SecretBox, new_key
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.smtp_server import PASSWORD, SmtpRecorder
from tests.processes import free_port
from tests.project_setup import kickoff
from tests.reach_setup import PUBLIC_URL, link_in, reach_world


async def doctor(**values: str | None) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = await run_doctor(load_settings(**values), lines.append)
    return code, lines


async def test_good_settings_pass_every_check(db_url: str) -> None:
    async with FakeSlackApi() as api, FakeBotConnector() as connector:
        connector.client_secret = "app-password-SECRET"
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
    assert "public URL: not set, and Slack OAuth (its redirect) need it" in failures
    assert "database: answers" in "\n".join(lines)


async def test_an_unreachable_database_is_one_failing_line() -> None:
    code, lines = await doctor(LIAISON_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert code == 1
    assert any(line.startswith("FAIL database: does not answer") for line in lines)


async def test_the_command_line_exits_non_zero_on_a_wrong_token(
    db_url: str,
    monkeypatch,
    capsys,  # noqa: ANN001
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


def failures(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL")]


async def test_a_wrong_teams_password_fails_with_the_teams_line(db_url: str) -> None:
    async with FakeBotConnector() as connector:
        connector.client_secret = "the-current-secret"
        code, lines = await doctor(
            LIAISON_DATABASE_URL=db_url,
            MICROSOFT_APP_ID="app-id",
            MICROSOFT_APP_PASSWORD="an-expired-SECRET",
            BOTFRAMEWORK_LOGIN_URL=connector.login_url,
        )
    assert code == 1
    (failure,) = failures(lines)
    assert failure.startswith("FAIL teams: no Bot Framework token: token endpoint answered 401")
    assert "(invalid_client)" in failure and "Fix: set MICROSOFT_APP_PASSWORD" in failure
    assert [r["client_secret"] for r in connector.token_requests] == ["an-expired-SECRET"]
    assert "SECRET" not in "\n".join(lines)


def email(smtp: SmtpRecorder, **values: str | None) -> dict[str, str | None]:
    settings: dict[str, str | None] = {
        "LIAISON_SMTP_URL": smtp.url,
        "LIAISON_SMTP_CA_FILE": smtp.ca_file,
        "LIAISON_MAIL_FROM": "Liaison <liaison@agency.example>",
        "LIAISON_PUBLIC_URL": PUBLIC_URL,
    }
    return settings | values


async def test_a_reachable_smtp_server_passes_and_is_sent_nothing(
    db_url: str, tmp_path: Path
) -> None:
    async with SmtpRecorder(tmp_path) as smtp:
        code, lines = await doctor(LIAISON_DATABASE_URL=db_url, **email(smtp))
    assert code == 0, lines
    assert f"ok   email: the SMTP server at 127.0.0.1:{smtp.port} accepts the login." in lines
    assert smtp.received == [] and smtp.rcpt_attempts == []


async def test_a_refused_smtp_login_is_one_failing_line(db_url: str, tmp_path: Path) -> None:
    async with SmtpRecorder(tmp_path) as smtp:
        wrong = smtp.url.replace(PASSWORD, "wrong-SECRET")
        code, lines = await doctor(
            LIAISON_DATABASE_URL=db_url, **email(smtp, LIAISON_SMTP_URL=wrong)
        )
    assert code == 1
    (failure,) = failures(lines)
    assert f"email: the SMTP server at 127.0.0.1:{smtp.port} refused the login (535)" in failure
    assert "Fix: correct the user and password in LIAISON_SMTP_URL" in failure
    assert "SECRET" not in "\n".join(lines)


async def test_an_untrusted_smtp_certificate_names_the_ca_setting(
    db_url: str, tmp_path: Path
) -> None:
    async with SmtpRecorder(tmp_path) as smtp:
        code, lines = await doctor(
            LIAISON_DATABASE_URL=db_url, **email(smtp, LIAISON_SMTP_CA_FILE=None)
        )
    assert code == 1
    (failure,) = failures(lines)
    assert "certificate this machine does not trust" in failure
    assert "Fix: set LIAISON_SMTP_CA_FILE" in failure


async def test_email_with_no_server_no_sender_and_no_public_url(db_url: str) -> None:
    port = free_port()
    code, lines = await doctor(
        LIAISON_DATABASE_URL=db_url, LIAISON_SMTP_URL=f"smtp://liaison:pw@127.0.0.1:{port}"
    )
    assert code == 1
    found = "\n".join(failures(lines))
    assert f"email: cannot connect to the SMTP server at 127.0.0.1:{port}" in found
    assert "Fix: check the host and port in LIAISON_SMTP_URL" in found
    assert "email: LIAISON_MAIL_FROM is not set" in found
    assert "public URL: not set, and email (its unsubscribe links) need it" in found
    assert len(failures(lines)) == 3


async def test_calendar_links_handed_out_need_the_public_url(db_url: str) -> None:
    async with reach_world(db_url) as world:
        await kickoff(world.bot)
        link_in(await world.bot.say("ann", "calendar"))
    code, lines = await doctor(LIAISON_DATABASE_URL=db_url)
    assert code == 1
    (failure,) = failures(lines)
    assert "public URL: not set, and the calendar links already handed out need it" in failure
    code, lines = await doctor(LIAISON_DATABASE_URL=db_url, LIAISON_PUBLIC_URL=PUBLIC_URL)
    assert code == 0, lines
