"""Request bodies that no endpoint can take are refused with 400 before a platform SDK sees
them, instead of ending as a 500 with a traceback in the log for every such request.

slack-bolt and botbuilder read the body before anything of ours runs, and slack-bolt
builds its context from it before it checks the signature: a JSON body that is not an
object, or a `payload` form field that is not one, makes it fail with an AttributeError
(so anyone could produce server errors without knowing the signing secret)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from aiohttp import web

log = logging.getLogger("liaison.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNREADABLE = (ValueError, RecursionError)  # bad UTF-8, invalid JSON, JSON nested too deep


def _object(text: str | bytes) -> bool:
    return isinstance(json.loads(text), dict)


def _may_name_payload(form: str) -> bool:
    """Whether a form may hold a field named `payload`: so named, or with an escape in its
    name (`%70ayload` is `payload` once decoded). Looking at the names alone costs a tenth
    of decoding every value, which a slash command's dozen fields would need for nothing."""
    return any(
        name == "payload" or "%" in name
        for name, _, _ in (field.partition("=") for field in form.split("&"))
    )


async def body_problem(request: web.Request) -> str | None:
    """What is wrong with the body, or None. Reading it here is free: aiohttp keeps it for
    the handler, and refuses one over the application's size limit with 413."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.body_exists:
        return None
    raw = await request.read()
    try:
        if request.content_type == "application/json":
            return None if _object(raw) else "a JSON body must be an object"
        if request.content_type == "application/x-www-form-urlencoded":
            text = raw.decode("utf-8")
            if not _may_name_payload(text):
                return None  # a slash command's form, say: no field of it to look into
            form = parse_qs(text, keep_blank_values=True)
            # Every one: slack-bolt reads the last of several, where parse_qs puts it last.
            if not all(_object(payload) for payload in form.get("payload", ())):
                return "the payload field must be a JSON object"
    except UNREADABLE:
        return "unreadable request body"
    return None


@web.middleware
async def refuse_unusable_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    problem = await body_problem(request)
    if problem is None:
        try:
            return await handler(request)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            # A body some SDK decodes in a way we did not foresee.
            problem = f"unreadable request body ({type(error).__name__})"
    log.warning("refused a request body on %s: %s", request.path, problem)
    return web.json_response({"error": problem}, status=400)
