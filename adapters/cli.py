"""The `liaison` command: serve, console, migrate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

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
    console.set_defaults(run=_console)

    migrate_cmd = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate_cmd.set_defaults(run=_migrate)
    return parser


def _migrate(settings: Settings, options: argparse.Namespace) -> int:
    migrate(settings.database_url)
    print("database is up to date")
    return 0


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
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
