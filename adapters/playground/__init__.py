"""The playground: try Liaison in a browser, with no Slack or Teams account.

It is served by `liaison serve` on a loopback address when no platform credentials are set
(or with LIAISON_PLAYGROUND=1 next to them); it has no login, so it is never served on an
address other machines can reach."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.hosts import is_loopback, playground_url
from adapters.playground.people import PLATFORM
from adapters.playground.routes import add_routes
from adapters.playground.service import DueStep, Playground, PlaygroundClock
from adapters.runtime import Runtime
from bot.schedule.step import run_due
from bot.settings import Settings

log = logging.getLogger("liaison.playground")
OFF = ("0", "off", "false", "no")
ON = ("1", "on", "true", "yes")


def playground_decision(settings: Settings) -> tuple[bool, str]:
    """Whether `liaison serve` serves the playground, and why, for the start-up log."""
    choice = (settings.playground or "").strip().lower()
    if choice in OFF:
        return False, "off (LIAISON_PLAYGROUND=0)"
    if not is_loopback(settings.host):
        return (
            False,
            f"off: it has no login, so it is only served on a loopback address, "
            f"not on {settings.host}",
        )
    if (settings.slack_enabled or settings.teams_credentials) and choice not in ON:
        return (
            False,
            "off because Slack or Teams credentials are set; "
            "set LIAISON_PLAYGROUND=1 to serve it anyway",
        )
    return True, "on"


def mount(app: web.Application, runtime: Runtime, *, due_step: DueStep | None = None) -> Playground:
    """Serve the page and its API on `app`, and deliver the outbox's playground posts."""
    clock = PlaygroundClock(runtime.engine.clock)
    playground = Playground(runtime.engine, runtime.sessions, due_step=due_step, clock=clock)
    runtime.deliverers[PLATFORM] = playground.deliverer
    add_routes(app, playground)

    async def deliver_waiting(app: web.Application) -> None:
        # Posts queued while no playground was running, e.g. by `liaison demo`. The service
        # starts even when the database does not answer yet (then /healthz says so).
        try:
            await playground.deliver()
        except (OSError, SQLAlchemyError) as error:
            log.warning("Playground: waiting posts not delivered yet: %s", type(error).__name__)

    app.on_startup.append(deliver_waiting)
    return playground


def mount_if_allowed(app: web.Application, runtime: Runtime) -> Playground | None:
    serve, why = playground_decision(runtime.settings)
    if not serve:
        log.info("Playground: %s", why)
        return None
    log.info("Playground: %s at %s", why, playground_url(runtime.settings))
    return mount(app, runtime, due_step=scheduler_due_step(runtime.settings))


def scheduler_due_step(settings: Settings) -> DueStep:
    """The scheduler's own due-step, run for the instant the page travels to."""
    grace = timedelta(minutes=settings.grace_minutes)

    async def due_step(sessions: async_sessionmaker[AsyncSession], at: datetime) -> object:
        return await run_due(sessions, at, grace=grace)

    return due_step
