"""`liaison doctor`: check what a running Liaison needs, one line each with the fix, and
exit non-zero when something needed is wrong. Reads only; never prints a secret."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.secret_key import StartupError, secret_box
from adapters.slack.clients import web_client
from bot.settings import Settings
from storage.db import alembic_config, create_engine, is_sqlite
from storage.secrets import SecretBox, SecretKeyError
from storage.slack_tables import BOTS_TABLE, slack_metadata
from storage.stored_secrets import count_opened

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
CLOCK_TOLERANCE_SECONDS = 30


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        fix = f" Fix: {self.fix}" if self.fix and not self.ok else ""
        return f"{mark} {self.what}: {self.detail}.{fix}"


Check = Callable[[Settings, AsyncEngine], Awaitable[list[Finding]]]


async def run_doctor(settings: Settings, write: Callable[[str], None] = print) -> int:
    write(Finding(True, "settings", "parsed").line())
    db = create_engine(settings.database_url)
    failed = False
    try:
        for check in (_database, _secrets, _slack, _teams, _public_url, _clock):
            try:
                findings = await check(settings, db)
            except Exception as error:  # a check that breaks is a finding, not a crash
                findings = [Finding(False, check.__name__.strip("_"), type(error).__name__)]
            for finding in findings:
                write(finding.line())
                failed = failed or not finding.ok
    finally:
        await db.dispose()
    return 1 if failed else 0


async def _database(settings: Settings, db: AsyncEngine) -> list[Finding]:
    try:
        async with db.connect() as connection:
            current = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    except Exception as error:
        return [
            Finding(
                False,
                "database",
                f"does not answer ({type(error).__name__})",
                "check LIAISON_DATABASE_URL and that the database is running",
            )
        ]
    head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
    if current != head:
        return [
            Finding(
                False,
                "database",
                f"schema at {current or 'nothing'}, latest is {head}",
                "run `liaison migrate`",
            )
        ]
    return [Finding(True, "database", f"answers, schema at the latest migration ({head})")]


async def _secrets(settings: Settings, db: AsyncEngine) -> list[Finding]:
    try:
        box = _box(settings)
        opened = await count_opened(db, box)
    except (StartupError, SecretKeyError) as error:
        return [
            Finding(
                False,
                "secret key",
                str(error),
                "set LIAISON_SECRET_KEY to the key the tokens were sealed with",
            )
        ]
    return [Finding(True, "secret key", f"opens all {opened} stored tokens")]


def _box(settings: Settings) -> SecretBox:
    if not settings.secret_key and is_sqlite(settings.database_url):
        from adapters.secret_key import key_file

        path = key_file(settings.database_url)
        if path is None or not path.exists():
            raise StartupError("no key yet (one is generated at the first `liaison serve`)")
    return secret_box(settings)


async def _slack(settings: Settings, db: AsyncEngine) -> list[Finding]:
    tokens: list[tuple[str, str]] = []
    if settings.slack_bot_token:
        tokens.append(("SLACK_BOT_TOKEN", settings.slack_bot_token))
    if settings.slack_client_id:
        tokens.extend(await _stored_bot_tokens(settings, db))
    if not tokens:
        return [Finding(True, "slack", "no token configured or stored (Slack not in use)")]
    findings = []
    for name, token in tokens:
        try:
            answer = await web_client(token, settings.slack_api_url).auth_test()
            findings.append(Finding(True, "slack", f"{name} works for {answer.get('team_id')}"))
        except SlackApiError as error:
            code = error.response.get("error", "refused")
            fix = (
                "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token"
                if name == "SLACK_BOT_TOKEN"
                else "reinstall Liaison in that workspace"
            )
            findings.append(Finding(False, "slack", f"{name} refused by auth.test ({code})", fix))
        except Exception as error:
            findings.append(
                Finding(
                    False,
                    "slack",
                    f"cannot reach Slack ({type(error).__name__})",
                    "check SLACK_API_URL and the network",
                )
            )
    return findings


async def _stored_bot_tokens(settings: Settings, db: AsyncEngine) -> list[tuple[str, str]]:
    box = _box(settings)
    bots = slack_metadata().tables[BOTS_TABLE]
    async with db.connect() as connection:
        rows = (await connection.execute(select(bots.c.team_id, bots.c.bot_token))).all()
    return [(f"the stored token of {team}", box.open(token) or "") for team, token in rows]


async def _teams(settings: Settings, db: AsyncEngine) -> list[Finding]:
    if not settings.microsoft_app_id:
        return [Finding(True, "teams", "no MICROSOFT_APP_ID (Teams not in use)")]
    from adapters.teams.auth import TokenCredentialFactory, login_url

    try:
        factory = TokenCredentialFactory(settings)
        await factory.token(BOT_FRAMEWORK_SCOPE, login_url(settings, None))
    except Exception as error:
        return [
            Finding(
                False,
                "teams",
                f"no Bot Framework token ({type(error).__name__})",
                "check MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID",
            )
        ]
    return [Finding(True, "teams", "the app id and password get a Bot Framework token")]


async def _public_url(settings: Settings, db: AsyncEngine) -> list[Finding]:
    if settings.slack_client_id and not settings.public_url:
        return [
            Finding(
                False,
                "public URL",
                "Slack OAuth needs it for its redirect",
                "set LIAISON_PUBLIC_URL to https://your-host",
            )
        ]
    return [Finding(True, "public URL", settings.public_url or "not needed")]


async def _clock(settings: Settings, db: AsyncEngine) -> list[Finding]:
    if is_sqlite(settings.database_url):
        return [Finding(True, "clock", "one machine (SQLite): nothing to compare")]
    async with db.connect() as connection:
        database_now = await connection.scalar(select(func.extract("epoch", func.now())))
    drift = abs(float(database_now) - time.time())
    if drift > CLOCK_TOLERANCE_SECONDS:
        return [
            Finding(
                False,
                "clock",
                f"{drift:.0f} s apart from the database's",
                "run NTP on this machine and the database's",
            )
        ]
    return [Finding(True, "clock", f"within {drift:.1f} s of the database's")]
