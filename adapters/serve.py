"""Run the service until interrupted."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from aiohttp import web

from adapters.hosts import playground_url
from adapters.playground.routes import PLAYGROUND_KEY
from adapters.runtime import Runtime, build_runtime
from adapters.server import create_app
from bot.schedule.scheduler import Scheduler
from bot.settings import Settings

log = logging.getLogger("liaison.serve")


async def serve(settings: Settings) -> None:
    runtime = build_runtime(settings)
    app = create_app(runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    log.info("Liaison is listening on http://%s:%s", settings.host, settings.port)
    if PLAYGROUND_KEY in app:
        print(f"Liaison playground: open {playground_url(settings)} in a browser", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheduler = start_scheduler(runtime)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        if scheduler is not None:
            await scheduler.stop()
        await runner.cleanup()
        await runtime.close()


def start_scheduler(runtime: Runtime) -> Scheduler | None:
    """The due-step and the delivery worker, unless LIAISON_SCHEDULER=off (web-only)."""
    settings = runtime.settings
    if not settings.scheduler_enabled:
        log.info("scheduler: off (LIAISON_SCHEDULER=%s)", settings.scheduler)
        return None
    scheduler = Scheduler(
        sessions=runtime.sessions,
        deliverers=runtime.deliverers,
        grace=timedelta(minutes=settings.grace_minutes),
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        interval=timedelta(seconds=min(60, max(1, settings.scheduler_interval_seconds))),
        retention=timedelta(days=settings.retention_days),
        metrics=runtime.metrics,
    )
    scheduler.start()
    return scheduler
