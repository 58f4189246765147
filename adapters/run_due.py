"""`liaison run-due [--at INSTANT]`: the scheduler's due-step once, then delivery of what is
due. Posts to console channels and people are printed on standard output (target,
audience, then the text), so a script can read what the scheduler said; the summary goes
to standard error. Retention (bot.schedule.retention) runs after it, as the scheduler of
`liaison serve` runs it hourly."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from adapters.console.deliver import ConsoleDeliverer
from adapters.runtime import build_runtime
from adapters.server import create_app
from bot.clock import utc_now
from bot.delivery.workers import OutboxWorker
from bot.schedule.retention import prune
from bot.schedule.step import run_due
from bot.settings import Settings


def parse_instant(text: str | None) -> datetime:
    if text is None:
        return utc_now()
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        raise ValueError(f"{text} has no time zone; add Z for UTC, like 2026-12-01T14:00:00Z")
    return moment.astimezone(UTC)


async def run_due_once(settings: Settings, at: str | None) -> int:
    try:
        instant = parse_instant(at)
    except ValueError as error:
        print(f"liaison run-due: {error}", file=sys.stderr)
        return 2
    runtime = build_runtime(settings)
    try:
        create_app(runtime)  # mounting the platforms registers their deliverers
        console = ConsoleDeliverer(lambda text: print(text + "\n", flush=True))
        deliverers = {**runtime.deliverers, console.platform: console}
        result = await run_due(
            runtime.sessions, instant, grace=timedelta(minutes=settings.grace_minutes)
        )
        print(f"due at {instant.isoformat()}: {result}", file=sys.stderr)
        worker = OutboxWorker(
            runtime.sessions,
            deliverers,
            # Deliver what the step wrote (due at `instant`) and what is due by now.
            clock=lambda: max(instant, utc_now()),
            lease=timedelta(seconds=settings.delivery_lease_seconds),
        )
        sent = await worker.run_once()
        print(f"delivered {sent} messages", file=sys.stderr)
        # Where cron runs this instead of `liaison serve`, retention runs here too; by the
        # real clock, so that a rehearsal `--at` a future instant deletes nothing early.
        keep = timedelta(days=settings.retention_days)
        pruned = await prune(runtime.sessions, utc_now(), keep_deliveries=keep)
        print(f"retention: deleted {pruned}", file=sys.stderr)
    finally:
        await runtime.close()
    return 0
