"""GET /metrics: Prometheus' text format.

Who may read it: with LIAISON_METRICS_TOKEN set, only a request carrying
`Authorization: Bearer <token>` (wherever it comes from: a reverse proxy on this machine
makes every request look local). Without a token, only a request to a service listening on
a loopback address, that arrived on a loopback address, whose `Host` names that address and
port (a DNS-rebinding web page cannot) and that no proxy says it forwarded."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import func, select

from adapters.hosts import is_local_host_header, is_loopback
from adapters.runtime import Runtime
from bot.metrics import CONTENT_TYPE
from bot.settings import Settings
from storage.models import Delivery

METRICS_PATH = "/metrics"
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP")


def may_read_metrics(request: web.Request, settings: Settings) -> bool:
    if settings.metrics_token:
        given = request.headers.get("Authorization", "").encode()
        return hmac.compare_digest(given, f"Bearer {settings.metrics_token}".encode())
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    arrived_on = request.transport.get_extra_info("sockname") if request.transport else None
    if not arrived_on or not is_loopback(settings.host) or not is_loopback(str(arrived_on[0])):
        return False
    return is_local_host_header(request.headers.get("Host"), int(arrived_on[1]))


def metrics_handler(runtime: Runtime) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def metrics(request: web.Request) -> web.Response:
        if not may_read_metrics(request, runtime.settings):
            # The same answer as for a path that does not exist: nothing to learn here.
            raise web.HTTPNotFound()
        async with runtime.sessions() as session:
            rows = await session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            )
            runtime.metrics.set_outbox_rows({status: count for status, count in rows.all()})
        body = runtime.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return metrics


def mount_metrics(app: web.Application, runtime: Runtime) -> None:
    app.router.add_get(METRICS_PATH, metrics_handler(runtime))
