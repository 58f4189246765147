"""create_app: the one aiohttp application that hosts every platform's endpoints."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy import text

from adapters.bodies import refuse_unusable_bodies
from adapters.runtime import Runtime
from bot.views.drawing import start_drawing_process

log = logging.getLogger("liaison.server")
RUNTIME_KEY = web.AppKey("runtime", Runtime)


async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME_KEY]
    try:
        async with runtime.db.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database means unhealthy
        log.warning("health check failed: %s", type(error).__name__)
        return web.json_response({"status": "unhealthy", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


def create_app(runtime: Runtime) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024, middlewares=[refuse_unusable_bodies])
    app[RUNTIME_KEY] = runtime
    app.router.add_get("/healthz", healthz)
    from adapters.metrics_route import mount_metrics

    mount_metrics(app, runtime)
    from adapters.legal_pages import mount_legal_pages

    mount_legal_pages(app, runtime.settings)
    # Calendar feeds and unsubscribe links answer whatever platforms are configured.
    from adapters.email import mount_email
    from adapters.feeds import mount_feeds

    mount_feeds(app, runtime)
    mount_email(runtime)
    app.on_startup.append(_listen_for_changes)
    app.on_startup.append(_prepare_drawing)
    _report_platforms(runtime)
    if runtime.settings.slack_enabled:
        from adapters.slack.app import mount_slack

        mount_slack(app, runtime)
    from adapters.teams import mount_teams

    mount_teams(app, runtime)
    from adapters.playground import mount_if_allowed

    mount_if_allowed(app, runtime)
    return app


async def _listen_for_changes(app: web.Application) -> None:
    app[RUNTIME_KEY].listen_for_changes()


async def _prepare_drawing(app: web.Application) -> None:
    # In a worker thread, so that start-up's other work goes on meanwhile.
    await asyncio.to_thread(start_drawing_process)


def _report_platforms(runtime: Runtime) -> None:
    settings = runtime.settings
    if settings.slack_enabled:
        log.info("Slack: enabled")
    else:
        log.info(
            "Slack: disabled; set SLACK_SIGNING_SECRET with SLACK_BOT_TOKEN "
            "(or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) to enable it"
        )
    if settings.teams_credentials:
        log.info("Teams: enabled with app id authentication")
    else:
        log.info(
            "Teams: disabled (/api/messages not served); set MICROSOFT_APP_ID and "
            "MICROSOFT_APP_PASSWORD to enable it"
        )
