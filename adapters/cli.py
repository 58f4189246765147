"""The `liaison` command: serve, console, migrate, run-due, secrets, doctor, forget."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.logs import configure_logging
from adapters.secret_key import StartupError
from bot.settings import Settings, load_settings
from storage.db import migrate

log = logging.getLogger("liaison.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as error:
        print(f"liaison: {settings_problem(error)}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level if options.command == "serve" else "WARNING")
    try:
        return int(options.run(settings, options) or 0)
    except StartupError as error:
        print(f"liaison: {error}", file=sys.stderr)
        return 2


def settings_problem(error: ValidationError) -> str:
    """One line naming the setting and what is wrong, never its value (it may be secret)."""
    first = error.errors()[0]
    name = ".".join(str(part) for part in first.get("loc", ())) or "settings"
    return f"setting {name}: {first.get('msg', 'invalid')}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liaison", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web service (Slack, Teams, scheduler)")
    serve.set_defaults(run=_serve)

    console = commands.add_parser("console", help="talk to Liaison in the terminal")
    console.add_argument("--as", dest="speaker", default="me", help="who is speaking")
    console.add_argument("--channel", help="a channel name; default: a direct message")
    console.add_argument(
        "--external", action="store_true", help="the speaker is a client from another organisation"
    )
    console.add_argument("--tz", help="the speaker's time zone, e.g. Europe/Berlin")
    console.add_argument(
        "--at",
        type=_instant,
        help="run every line at this instant (2026-12-01T10:00:00Z): reproducible scripts",
    )
    console.set_defaults(run=_console)

    migrate_cmd = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate_cmd.set_defaults(run=_migrate)

    manifest = commands.add_parser("manifest", help="print a platform's app manifest")
    manifest.add_argument("platform", choices=["slack", "teams"])
    manifest.add_argument("--url", help="public base URL, https://bot.example.com")
    manifest.add_argument("--socket-mode", action="store_true", help="for SLACK_APP_TOKEN setups")
    manifest.add_argument("--app-id", help="Teams: the bot's Microsoft app id")
    manifest.add_argument("--domain", help="Teams: the public host name, bot.example.com")
    manifest.add_argument("--out", help="Teams: the app package to write (liaison-teams.zip)")
    manifest.set_defaults(run=_manifest)

    run_due = commands.add_parser(
        "run-due", help="run the scheduler's due-step once and deliver what it produced"
    )
    run_due.add_argument("--at", help="the instant, like 2026-12-01T14:00:00Z (default: now)")
    run_due.set_defaults(run=_run_due)

    secrets = commands.add_parser("secrets", help="the key that seals stored tokens")
    secrets_commands = secrets.add_subparsers(dest="secrets_command", required=True)
    secrets_commands.add_parser("new-key", help="print a new key for LIAISON_SECRET_KEY")
    secrets_commands.add_parser(
        "rotate", help="re-seal every stored token with the first key of LIAISON_SECRET_KEY"
    )
    secrets.set_defaults(run=_secrets)

    doctor = commands.add_parser(
        "doctor", help="check settings, database, key, Slack, Teams and the clock"
    )
    doctor.set_defaults(run=_doctor)

    forget = commands.add_parser(
        "forget",
        help="erase a person: a pseudonym for their name and contact details everywhere, "
        "their huddle answers' text deleted, their numbers kept",
    )
    forget.add_argument("--platform", required=True, choices=["slack", "teams", "console"])
    forget.add_argument("--user", required=True, help="their platform id, like U0123ABC")
    forget.set_defaults(run=_forget)

    demo = commands.add_parser("demo", help="create a sample client project for the playground")
    demo.add_argument("--verbose", action="store_true", help="print every command and reply")
    demo.set_defaults(run=_demo)
    return parser


def _manifest(settings: Settings, options: argparse.Namespace) -> int:
    if options.platform == "teams":
        from adapters.teams.manifest import run

        return run(settings, options)
    from adapters.slack.manifest import manifest_text

    if not options.url:
        print("liaison manifest slack: --url is required", file=sys.stderr)
        return 2
    try:
        text = manifest_text(
            options.url, command=settings.slack_command, socket_mode=options.socket_mode
        )
    except ValueError as error:
        print(f"liaison manifest: {error}", file=sys.stderr)
        return 2
    print(text, end="")
    return 0


def _migrate(settings: Settings, options: argparse.Namespace) -> int:
    from adapters.secret_key import secret_box
    from storage.stored_secrets import reseal_all

    box = secret_box(settings)
    migrate(settings.database_url)
    sealed = asyncio.run(_with_engine(settings, lambda db: reseal_all(db, box)))
    print("database is up to date" + (f"; {sealed} stored secrets sealed" if sealed else ""))
    return 0


def _doctor(settings: Settings, options: argparse.Namespace) -> int:
    from adapters.doctor import run_doctor

    return asyncio.run(run_doctor(settings))


def _secrets(settings: Settings, options: argparse.Namespace) -> int:
    from adapters.secret_key import secret_box
    from storage.secrets import new_key
    from storage.stored_secrets import reseal_all

    if options.secrets_command == "new-key":
        print(new_key())
        return 0
    box = secret_box(settings)
    changed = asyncio.run(_with_engine(settings, lambda db: reseal_all(db, box)))
    print(f"re-sealed the tokens of {changed} rows with the first key")
    return 0


async def _with_engine(settings: Settings, work: Callable[[AsyncEngine], Awaitable[int]]) -> int:
    from storage.db import create_engine

    db = create_engine(settings.database_url)
    try:
        return await work(db)
    finally:
        await db.dispose()


def _forget(settings: Settings, options: argparse.Namespace) -> int:
    from adapters.forget import forget_person
    from storage.db import session_factory

    async def forget(db: AsyncEngine) -> int:
        erased = await forget_person(
            session_factory(db), options.platform, options.user, datetime.now(UTC)
        )
        if erased is None:
            print(f"liaison forget: no {options.platform} user with that id", file=sys.stderr)
            return 1
        print(f"forgotten: now {erased.pseudonym!r} everywhere ({erased.rows} rows changed)")
        return 0

    return asyncio.run(_with_engine(settings, forget))


def _demo(settings: Settings, options: argparse.Namespace) -> int:
    from adapters.playground.demo import create_demo

    migrate(settings.database_url)
    return asyncio.run(create_demo(settings, verbose=options.verbose))


def _run_due(settings: Settings, options: argparse.Namespace) -> int:
    from adapters.run_due import run_due_once

    migrate(settings.database_url)
    return asyncio.run(run_due_once(settings, options.at))


def _serve(settings: Settings, options: argparse.Namespace) -> int:
    from adapters import event_loop
    from adapters.serve import serve

    event_loop.run(serve(settings))
    return 0


def _console(settings: Settings, options: argparse.Namespace) -> int:
    from adapters.console.repl import run_console

    migrate(settings.database_url)
    return asyncio.run(
        run_console(
            settings,
            speaker=options.speaker,
            channel=options.channel,
            external=options.external,
            timezone=options.tz,
            interactive=sys.stdin.isatty(),
            at=options.at,
        )
    )


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, like 2026-12-01T10:00:00Z")
    return moment.astimezone(UTC)


if __name__ == "__main__":
    raise SystemExit(main())
