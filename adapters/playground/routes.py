"""The playground's HTTP side: the page at `/` and a small JSON API under `/playground/api/`.

Every route goes through `Playground`, which goes through the engine; none reads or writes
project data itself. The API only answers JSON posts from the page's own origin, so another
web page open in the same browser cannot drive it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from adapters.hosts import serve_locally_only
from adapters.playground.demo import run_demo
from adapters.playground.people import CHANNELS, ROSTER, places_of, speaker_named
from adapters.playground.render import render_json
from adapters.playground.service import Playground
from bot.errors import UserError
from bot.messages import Reply

STATIC = Path(__file__).parent / "static"
PLAYGROUND_KEY = web.AppKey("playground", Playground)


def add_routes(app: web.Application, playground: Playground) -> None:
    """The page, its files and its API, each refusing a `Host` other than this machine's
    (DNS rebinding: a page at attacker.example resolved to 127.0.0.1 is same-origin with
    itself, so the Origin check alone would let it drive the playground)."""
    app[PLAYGROUND_KEY] = playground
    router = app.router
    serve_locally_only(
        app,
        [
            router.add_get("/", page).resource,
            router.add_static("/playground/static/", STATIC, append_version=True),
            router.add_get("/playground/api/state", state).resource,
            router.add_get("/playground/api/feed", feed).resource,
            router.add_post("/playground/api/say", say).resource,
            router.add_post("/playground/api/action", action).resource,
            router.add_post("/playground/api/travel", travel).resource,
            router.add_post("/playground/api/demo", demo).resource,
        ],
    )


async def page(request: web.Request) -> web.Response:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return web.Response(text=html, content_type="text/html", headers=_no_cache())


def _no_cache() -> dict[str, str]:
    return {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}


async def state(request: web.Request) -> web.Response:
    playground = request.app[PLAYGROUND_KEY]
    speaker = _speaker(request.query.get("as", ROSTER[0].user_id))
    return web.json_response(
        {
            "speakers": [
                {"id": s.user_id, "name": s.name, "label": s.label, "external": s.external}
                for s in ROSTER
            ],
            "channels": [
                {"id": c.channel_id, "name": c.name, "shared": c.shared} for c in CHANNELS
            ],
            "places": places_of(speaker),
            "now": playground.clock().isoformat(),
            "zone": await playground.project_zone(),
            "can_travel": playground.due_step is not None,
        }
    )


async def feed(request: web.Request) -> web.Response:
    playground = request.app[PLAYGROUND_KEY]
    speaker = _speaker(request.query.get("as", ""))
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise web.HTTPBadRequest(text="after is a number") from None
    entries = playground.feed(speaker.user_id, after)
    return web.json_response({"entries": entries, "now": playground.clock().isoformat()})


async def say(request: web.Request) -> web.Response:
    body = await _json(request)
    text = _field(body, "text")
    reply = await request.app[PLAYGROUND_KEY].say(
        _speaker(_field(body, "as")).user_id, _place(body), text
    )
    return _reply_json(reply)


async def action(request: web.Request) -> web.Response:
    body = await _json(request)
    fields = body.get("fields") or {}
    if not isinstance(fields, dict):
        raise web.HTTPBadRequest(text="fields is an object")
    reply = await request.app[PLAYGROUND_KEY].press(
        _speaker(_field(body, "as")).user_id,
        _place(body),
        _field(body, "action_id"),
        str(body.get("value", "")),
        {str(k): str(v) for k, v in fields.items()},
    )
    return _reply_json(reply)


def _reply_json(reply: Reply) -> web.Response:
    messages = [render_json(m) for m in reply.messages]
    return web.json_response({"failed": reply.failed, "messages": messages})


async def travel(request: web.Request) -> web.Response:
    body = await _json(request)
    playground = request.app[PLAYGROUND_KEY]
    try:
        at, posts = await playground.travel(_field(body, "day"), _field(body, "time"))
    except UserError as error:
        return web.json_response({"error": error.message}, status=400)
    return web.json_response({"now": at.isoformat(), "posts": posts})


async def demo(request: web.Request) -> web.Response:
    await _json(request)
    result = await run_demo(request.app[PLAYGROUND_KEY])
    status = 200 if result.ok else 409
    return web.json_response(
        {"ok": result.ok, "steps": result.steps, "error": result.error}, status=status
    )


# --- checks ------------------------------------------------------------------------------


async def _json(request: web.Request) -> dict[str, Any]:
    _same_origin(request)
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send JSON")
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="the body is not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body is a JSON object")
    return body


def _same_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise web.HTTPForbidden(text="the playground only answers its own page")


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise web.HTTPBadRequest(text=f"{name} is required")
    return value


def _speaker(user_id: str) -> Any:
    try:
        return speaker_named(user_id)
    except ValueError as error:
        raise web.HTTPBadRequest(text=str(error)) from None


def _place(body: dict[str, Any]) -> str:
    place = _field(body, "place")
    if place not in places_of(_speaker(_field(body, "as"))):
        raise web.HTTPBadRequest(text=f"{body['as']} is not in {place}")
    return place
