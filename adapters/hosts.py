"""Whether the service listens only on this machine (unauthenticated extras need that), and
whether a request really was addressed to this machine (DNS rebinding: a web page can make
`attacker.example` resolve to 127.0.0.1, but its requests still carry that `Host`)."""

from __future__ import annotations

import ipaddress

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


def playground_url(settings: Settings) -> str:
    """Where a browser on this machine finds the playground (IPv6 hosts in brackets)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}/"
