"""`liaison doctor`: check what a running Liaison needs, one line each with the fix, and
exit non-zero when something needed is wrong. Reads only; never prints a secret."""

from __future__ import annotations

import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiosmtplib
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.secret_key import StartupError, secret_box
from adapters.slack.clients import web_client
from bot.settings import Settings
from storage.db import alembic_config, create_engine, is_sqlite
from storage.models import CalendarFeed
from storage.secrets import SecretBox, SecretKeyError
from storage.slack_tables import BOTS_TABLE, slack_metadata
from storage.stored_secrets import count_opened

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
        for check in (_database, _secrets, _slack, _teams, _public_url, _smtp, _clock):
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
    from adapters.teams.auth import TokenRefused, bot_token

    try:
        await bot_token(settings)
    except TokenRefused as error:
        return [Finding(False, "teams", f"no Bot Framework token: {error}", _teams_fix(error))]
    except Exception as error:
        return [
            Finding(
                False,
                "teams",
                f"cannot reach the token endpoint ({type(error).__name__})",
                "check the network (and BOTFRAMEWORK_LOGIN_URL if set)",
            )
        ]
    return [Finding(True, "teams", "the app id and password get a Bot Framework token")]


def _teams_fix(error: Exception) -> str:
    if getattr(error, "error", "") == "invalid_client":
        return (
            "set MICROSOFT_APP_PASSWORD to a current client secret's value of the app "
            "registration (Azure portal, Certificates & secrets)"
        )
    return "check MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID"


async def _public_url(settings: Settings, db: AsyncEngine) -> list[Finding]:
    if settings.public_url:
        return [Finding(True, "public URL", settings.public_url)]
    needs = await _needs_public_url(settings, db)
    if needs:
        return [
            Finding(
                False,
                "public URL",
                f"not set, and {' and '.join(needs)} need it",
                "set LIAISON_PUBLIC_URL to https://your-host",
            )
        ]
    return [Finding(True, "public URL", "not needed yet (`calendar` links will ask for it)")]


async def _needs_public_url(settings: Settings, db: AsyncEngine) -> list[str]:
    """What stops working without LIAISON_PUBLIC_URL: the OAuth redirect, the unsubscribe
    link in every email, and the calendar links people already hold."""
    needs = []
    if settings.slack_client_id:
        needs.append("Slack OAuth (its redirect)")
    if settings.smtp_url:
        needs.append("email (its unsubscribe links)")
    try:
        async with db.connect() as connection:
            feeds = await connection.scalar(select(func.count()).select_from(CalendarFeed))
    except Exception:
        feeds = 0  # the database line already says why it does not answer
    if feeds:
        needs.append("the calendar links already handed out")
    return needs


async def _smtp(settings: Settings, db: AsyncEngine) -> list[Finding]:
    if not settings.smtp_url:
        return [Finding(True, "email", "no LIAISON_SMTP_URL (email not in use)")]
    from adapters.email.deliver import parse_smtp_url, smtp_session, smtp_tls_context

    findings = []
    if not settings.mail_from:
        findings.append(
            Finding(
                False,
                "email",
                "LIAISON_MAIL_FROM is not set, so nothing is sent",
                "set LIAISON_MAIL_FROM to the address reports come from",
            )
        )
    try:
        server = parse_smtp_url(settings.smtp_url)
    except ValueError as error:
        return [*findings, Finding(False, "email", str(error), "correct LIAISON_SMTP_URL")]
    where = f"{server.host}:{server.port}"
    try:
        async with smtp_session(server, smtp_tls_context(settings.smtp_ca_file)):
            pass  # connected, EHLO, STARTTLS and login done: what every send starts with
    except Exception as error:
        return [*findings, _smtp_failure(where, error)]
    return [*findings, Finding(True, "email", f"the SMTP server at {where} accepts the login")]


def _smtp_failure(where: str, error: Exception) -> Finding:
    """One line for each way the relay says no; never the password, which is in the URL."""
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return Finding(
            False,
            "email",
            f"the SMTP server at {where} refused the login ({error.code})",
            "correct the user and password in LIAISON_SMTP_URL",
        )
    if (
        isinstance(error, ssl.SSLError | aiosmtplib.SMTPException)
        and "certificate" in str(error).lower()
    ):
        return Finding(
            False,
            "email",
            f"the SMTP server at {where} has a certificate this machine does not trust",
            "set LIAISON_SMTP_CA_FILE to the relay's CA certificate",
        )
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return Finding(
            False,
            "email",
            f"the SMTP server at {where} answered {error.code}",
            "check LIAISON_SMTP_URL (smtps:// for port 465) and the relay's settings",
        )
    return Finding(
        False,
        "email",
        f"cannot connect to the SMTP server at {where} ({type(error).__name__})",
        "check the host and port in LIAISON_SMTP_URL and that the server is running",
    )


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
