"""Run the service until interrupted."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from adapters.runtime import build_runtime
from adapters.server import create_app
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
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await runner.cleanup()
        await runtime.close()
