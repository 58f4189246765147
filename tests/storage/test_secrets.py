"""Stored tokens are sealed with LIAISON_SECRET_KEY: a database dump gives none away, keys
rotate, clear rows from before are sealed by `liaison migrate`, and a missing key stops
PostgreSQL start-up with one line."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text

from adapters.cli import main
from adapters.secret_key import StartupError, key_file, secret_box
from adapters.slack.oauth import installation_store
from bot.domain.access_tokens import new_token
from bot.settings import load_settings
from storage.db import create_engine
from storage.secrets import SecretBox, new_key
from tests.fakes.slack_world import SlackWorld, slack_world
from tests.slack.test_oauth import OAUTH, install
from tests.table_dump import dump_all_tables

USER_TOKEN = "xoxp-9999-SECRETUSERTOKEN"
REFRESH_TOKEN = "xoxe-1-SECRETREFRESHTOKEN"


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url, **OAUTH) as world:
        yield world


async def test_a_dump_of_every_table_holds_no_token_in_clear(world: SlackWorld) -> None:
    await install(world)
    await world.command('project new "Acme Site" client:"Acme"')  # the token in use
    dump = await dump_all_tables(world.runtime.db)
    assert "slack_bots" in dump and "slack_installations" in dump  # installed...
    assert "xoxb" not in dump  # ...with its token only sealed
    assert {c.token for c in world.api.calls_to("users.info")} == {"xoxb-T0001"}


async def save_installation(db_url: str, box: SecretBox | None = None) -> None:
    engine = create_engine(db_url)
    settings = load_settings(SLACK_CLIENT_ID="1000.2000", LIAISON_DATABASE_URL=db_url)
    store = installation_store(settings, engine, box)
    await store.async_save(
        Installation(
            app_id="A0LIAISON",
            team_id="T0001",
            bot_token="xoxb-1-SECRETBOT",
            bot_id="B0001",
            bot_user_id="UBOT",
            user_id="U0ANN",
            user_token=USER_TOKEN,
            bot_refresh_token=REFRESH_TOKEN,
            installed_at=time.time(),
        )
    )
    await engine.dispose()


async def find_bot_token(db_url: str, box: SecretBox) -> str | None:
    engine = create_engine(db_url)
    store = installation_store(load_settings(SLACK_CLIENT_ID="1000.2000"), engine, box)
    try:
        bot = await store.async_find_bot(enterprise_id=None, team_id="T0001")
        user = await store.async_find_installation(
            enterprise_id=None, team_id="T0001", user_id="U0ANN"
        )
    finally:
        await engine.dispose()
    assert bot is not None and user is not None
    assert user.user_token == USER_TOKEN and user.bot_token == bot.bot_token
    return bot.bot_token


async def test_rotation_reseals_with_the_first_key_and_old_keys_then_go(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = new_key(), new_key()
    await save_installation(db_url, SecretBox(old))
    monkeypatch.setenv("LIAISON_DATABASE_URL", db_url)
    monkeypatch.setenv("LIAISON_SECRET_KEY", f"{new},{old}")
    assert await _run_main(["secrets", "rotate"]) == 0
    assert await find_bot_token(db_url, SecretBox(new)) == "xoxb-1-SECRETBOT"
    with pytest.raises(ValueError, match="does not open"):
        await find_bot_token(db_url, SecretBox(old))


async def test_migrate_seals_rows_stored_in_clear_before(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(db_url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO slack_bots (client_id, app_id, team_id, bot_token, bot_id, "
                "bot_user_id, is_enterprise_install, installed_at) VALUES ('1000.2000', 'A0', "
                "'T0001', 'xoxb-1-SECRETBOT', 'B0001', 'UBOT', false, CURRENT_TIMESTAMP)"
            )
        )
    await engine.dispose()
    monkeypatch.setenv("LIAISON_DATABASE_URL", db_url)
    assert await _run_main(["migrate"]) == 0
    engine = create_engine(db_url)
    assert "SECRETBOT" not in await dump_all_tables(engine)
    await engine.dispose()
    box = SecretBox(os.environ["LIAISON_SECRET_KEY"])
    assert await find_bot_token_only(db_url, box) == "xoxb-1-SECRETBOT"


async def test_migrate_seals_link_tokens_stored_in_clear_before(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calendar links were stored in clear before they were sealed: `liaison migrate`
    seals them, and the link a person holds still opens (found by its digest)."""
    token = new_token()
    engine = create_engine(db_url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO calendar_feeds (scope, kind, token, token_digest, created_at) "
                "VALUES ('mine:person=1', 'mine', :token, :digest, CURRENT_TIMESTAMP)"
            ),
            {"token": token.token, "digest": token.digest},
        )
    await engine.dispose()
    monkeypatch.setenv("LIAISON_DATABASE_URL", db_url)
    assert await _run_main(["migrate"]) == 0
    engine = create_engine(db_url)
    assert token.token not in await dump_all_tables(engine)
    async with engine.connect() as connection:
        stored = await connection.scalar(text("SELECT token FROM calendar_feeds"))
    await engine.dispose()
    assert SecretBox(os.environ["LIAISON_SECRET_KEY"]).open(stored) == token.token


async def find_bot_token_only(db_url: str, box: SecretBox) -> str | None:
    engine = create_engine(db_url)
    store = installation_store(load_settings(SLACK_CLIENT_ID="1000.2000"), engine, box)
    bot = await store.async_find_bot(enterprise_id=None, team_id="T0001")
    await engine.dispose()
    return bot.bot_token if bot else None


async def _run_main(argv: list[str]) -> int:
    """`liaison ...` in a thread: the command runs its own event loop."""
    import asyncio

    return await asyncio.to_thread(main, argv)


def test_postgresql_without_a_key_refuses_to_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LIAISON_SECRET_KEY")
    monkeypatch.setenv("LIAISON_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "LIAISON_SECRET_KEY is not set" in err and "liaison secrets new-key" in err


def test_a_bad_key_refuses_with_one_line_that_does_not_echo_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIAISON_SECRET_KEY", "not-a-key-SECRETISH")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "key 1 is not a Fernet key" in err and "SECRETISH" not in err


def test_sqlite_default_generates_one_owner_only_key_file_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LIAISON_SECRET_KEY")
    url = f"sqlite+aiosqlite:///{tmp_path}/liaison.db"
    settings = load_settings(LIAISON_DATABASE_URL=url)
    first = secret_box(settings)
    path = key_file(url)
    assert path == tmp_path / "liaison.db.secret-key" and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = first.seal("xoxb-1")
    assert secret_box(settings).open(sealed) == "xoxb-1"


def test_new_key_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "new-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert SecretBox(key).open(SecretBox(key).seal("x")) == "x"
    with pytest.raises(StartupError):
        secret_box(load_settings(LIAISON_SECRET_KEY=key[:-4]))
