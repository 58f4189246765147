"""`liaison console`: read command lines from stdin, print replies and outbound posts."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from adapters.console.deliver import ConsoleDeliverer
from adapters.console.images import ImageStore
from adapters.console.session import ConsoleSession, Speaker
from adapters.runtime import build_runtime
from bot.clock import utc_now
from bot.delivery.workers import deliver_pending
from bot.settings import Settings

BANNER = "Liaison console. Type `help`, or `:as NAME`, `:in CHANNEL`, `:dm`; Ctrl-D to leave."


async def run_console(
    settings: Settings,
    *,
    speaker: str,
    channel: str | None,
    external: bool,
    timezone: str | None,
    interactive: bool,
    at: datetime | None = None,
) -> int:
    runtime = build_runtime(settings, clock=(lambda: at) if at else utc_now)
    images = ImageStore()  # charts are saved here and printed as file paths
    deliverer = ConsoleDeliverer(lambda text: print(text, flush=True), images)
    session = ConsoleSession(
        runtime.engine, Speaker(speaker, external, timezone), channel, images=images
    )
    if interactive:
        print(BANNER)
    try:
        while True:
            if interactive:
                print(f"{session.speaker.name}> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            output = await session.run_line(line)
            if output:
                print(output, flush=True)
            await deliver_pending(
                runtime.sessions, {deliverer.platform: deliverer}, runtime.engine.clock()
            )
    finally:
        await runtime.close()
    return 0
