"""The two public routes that open without a login, by an unguessable token alone:
calendar feeds (`GET /calendar/<token>.ics`) and one-click unsubscribe
(`GET|POST /unsubscribe/<token>`).

What an attacker can do with them, and why it is nothing: a token is 256 random bits
(bot.domain.access_tokens), found by its SHA-256 (stored sealed beside it); an unknown,
rotated or malformed token gets the same bare 404 with no body and no statement run for a
malformed one, so there is nothing to enumerate and no tenant to cross (a token names one
feed or one subscription, never an id). They are served on every interface, whatever
platforms are configured, because calendar apps and mail clients fetch them from outside.
GET /unsubscribe only shows a button: mail scanners fetch links, and must not unsubscribe
anyone; the button and mail clients' RFC 8058 one-click POST do.
"""

from __future__ import annotations

import html
import logging
from email.utils import format_datetime

from aiohttp import web

from adapters.runtime import Runtime
from bot.delivery.mailing_list import recipient_by_token, remove_recipient
from bot.views.calendar_feed import FeedBody, open_feed, render_feed

log = logging.getLogger("liaison.feeds")
RUNTIME = web.AppKey("feeds_runtime", Runtime)
NOT_FOUND_HEADERS = {"Cache-Control": "no-store"}


def mount_feeds(app: web.Application, runtime: Runtime) -> None:
    app[RUNTIME] = runtime
    app.router.add_get(r"/calendar/{token}.ics", calendar_feed)
    app.router.add_get("/unsubscribe/{token}", unsubscribe_page)
    app.router.add_post("/unsubscribe/{token}", unsubscribe)


def _not_found() -> web.Response:
    return web.Response(status=404, headers=NOT_FOUND_HEADERS)


async def calendar_feed(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session:
        opened = await open_feed(session, request.match_info["token"])
        if opened is None:
            return _not_found()
        body = await render_feed(session, opened)
    headers = {
        "ETag": body.etag,
        "Last-Modified": _http_date(body),
        "Cache-Control": "private, max-age=300",
    }
    if _unchanged(request, body):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=body.ics, content_type="text/calendar", charset="utf-8", headers=headers
    )


def _http_date(body: FeedBody) -> str:
    return format_datetime(body.last_modified, usegmt=True)


def _unchanged(request: web.Request, body: FeedBody) -> bool:
    """RFC 9110: If-None-Match decides when present; else If-Modified-Since."""
    etag = body.etag
    given = request.headers.get("If-None-Match")
    if given is not None:
        return any(t.strip() in (etag, "*", f"W/{etag}") for t in given.split(","))
    since = request.if_modified_since
    return since is not None and body.last_modified <= since


async def unsubscribe_page(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session:
        recipient = await recipient_by_token(session, request.match_info["token"])
    if recipient is None:
        return _not_found()
    address = html.escape(recipient.address)
    return _page(
        f"<p>Stop the project emails to {address}?</p>"
        '<form method="post"><button type="submit">Unsubscribe</button></form>'
    )


async def unsubscribe(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        recipient = await recipient_by_token(session, request.match_info["token"])
        if recipient is None:
            return _not_found()
        address = recipient.address
        await remove_recipient(session, recipient, "unsubscribed")
    log.info("an address unsubscribed from project %s", recipient.project_id)
    return _page(f"<p>{html.escape(address)} gets no more emails from this project.</p>")


def _page(body: str) -> web.Response:
    return web.Response(
        text=f"<!DOCTYPE html><html><body>{body}</body></html>",
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
