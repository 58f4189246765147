"""The `liaison` command: serve, console, migrate, run-due."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from adapters.logs import configure_logging
from bot.settings import Settings, load_settings
from storage.db import migrate

log = logging.getLogger("liaison.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level if options.command == "serve" else "WARNING")
    return int(options.run(settings, options) or 0)


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
    migrate(settings.database_url)
    print("database is up to date")
    return 0


def _demo(settings: Settings, options: argparse.Namespace) -> int:
    from adapters.playground.demo import create_demo

    migrate(settings.database_url)
    return asyncio.run(create_demo(settings, verbose=options.verbose))


def _run_due(settings: Settings, options: argparse.Namespace) -> int:
    from adapters.run_due import run_due_once

    migrate(settings.database_url)
    return asyncio.run(run_due_once(settings, options.at))


def _serve(settings: Settings, options: argparse.Namespace) -> int:
    from adapters.serve import serve

    asyncio.run(serve(settings))
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
