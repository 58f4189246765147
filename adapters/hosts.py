"""Whether the service listens only on this machine (unauthenticated extras need that), and
whether a request really was addressed to this machine (DNS rebinding: a web page can make
`attacker.example` resolve to 127.0.0.1, but its requests still carry that `Host`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractResource

from bot.settings import Settings

LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_local_host_header(host_header: str | None, port: int) -> bool:
    """Whether a `Host` header names this machine's loopback address with the listen port:
    exactly `127.0.0.1:PORT`, `localhost:PORT` or `[::1]:PORT` (case-insensitive)."""
    if not host_header:
        return False
    return host_header.strip().lower() in {f"{name}:{port}" for name in LOCAL_NAMES}


LOCAL_ONLY_KEY = web.AppKey("local_only_resources", set[AbstractResource])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def serve_locally_only(app: web.Application, resources: Iterable[AbstractResource]) -> None:
    """Make these routes answer only requests addressed to this machine: any other `Host`
    gets 421, whatever `Origin` says (the rest of `app`, /healthz included, is untouched)."""
    if LOCAL_ONLY_KEY not in app:
        app[LOCAL_ONLY_KEY] = set()
        app.middlewares.insert(0, _refuse_other_hosts)
    app[LOCAL_ONLY_KEY].update(resources)


def listen_port(request: web.Request) -> int | None:
    """The port this request arrived on (the socket's, so also right for port 0)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else None


@web.middleware
async def _refuse_other_hosts(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    if resource in request.app[LOCAL_ONLY_KEY]:
        port = listen_port(request)
        if port is None or not is_local_host_header(request.headers.get("Host"), port):
            raise web.HTTPMisdirectedRequest(
                text="this is only served as http://127.0.0.1, localhost or [::1] with its port"
            )
    return await handler(request)


def playground_url(settings: Settings) -> str:
    """Where a browser on this machine finds the playground (IPv6 hosts in brackets)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}/"
