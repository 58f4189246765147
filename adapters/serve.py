"""Run the service until SIGTERM or SIGINT, then stop gracefully: accept no new
connection, let the requests in flight finish (up to SHUTDOWN_SECONDS), record the posts on
the wire and give the outbox rows this process took back to the others, then exit 0."""

from __future__ import annotations

import asyncio
import gc
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
# What a platform or an orchestrator waits for: Kubernetes sends SIGKILL 30 s after SIGTERM.
SHUTDOWN_SECONDS = 20.0


async def serve(settings: Settings) -> None:
    runtime = build_runtime(settings)
    app = create_app(runtime)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    settle_collector()
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
        await shut_down(runner, runtime, scheduler)


# Allocations between two collections of the youngest generation (Python's default: 700).
# A request makes thousands of objects, nearly all freed by their counts as it ends, yet
# each 700 allocations the collector walked whatever the requests in flight held: in the
# mixed workload (bench/) 7% of the serving process's CPU time went to collections, 3%
# with this, and half as many full collections (~50 ms each, a pause for every request).
YOUNG_COLLECTION_AFTER = 10_000


def settle_collector() -> None:
    """What start-up built lives as long as the process: kept out of the collector's way
    (frozen), each collection under load walks only what requests made; and it runs
    less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_AFTER, middle, old)


async def shut_down(runner: web.AppRunner, runtime: Runtime, scheduler: Scheduler | None) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SHUTDOWN_SECONDS
    log.info("shutting down: accepting nothing new, finishing what is in flight")
    for site in list(runner.sites):
        await site.stop()  # the listening socket closes: new connections are refused
    if runner.server is not None:
        # Open keep-alive connections take no further request: each closes once its
        # request in flight is answered.
        runner.server.pre_shutdown()
    left = deadline - loop.time()
    await asyncio.gather(_finish_requests(runtime, left), _stop_scheduler(scheduler, left))
    await runner.cleanup()
    await runtime.close()
    log.info("stopped")


async def _finish_requests(runtime: Runtime, seconds: float) -> None:
    in_flight = runtime.engine.in_flight
    if not await in_flight.finished(seconds):
        log.warning("shutdown: %s requests still running after %ss", in_flight.count, seconds)


async def _stop_scheduler(scheduler: Scheduler | None, seconds: float) -> None:
    """Posts on the wire are recorded and the rows taken but not started given back."""
    if scheduler is None:
        return
    try:
        async with asyncio.timeout(seconds):
            await scheduler.stop()
    except TimeoutError:
        log.warning("shutdown: the scheduler did not stop within %ss", seconds)


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
