"""The two floors Liaison is measured against, each served like `liaison serve` is: one
process, aiohttp on the same event loop, the same host and port settings.

    python -m bench.baselines aiohttp   # a bare handler that returns 200: the machine's floor
    python -m bench.baselines bolt      # a bare slack-bolt AsyncApp acknowledging a command

Both answer POST /slack/events and GET /healthz; the Bolt one verifies the Slack signature
with SLACK_SIGNING_SECRET, as any Bolt app does."""

from __future__ import annotations

import os
import sys

from aiohttp import web

from adapters.event_loop import loop_factory


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def bare_aiohttp_app() -> web.Application:
    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/slack/events", ok)
    app.router.add_get("/healthz", _healthz)
    return app


def bare_bolt_app() -> web.Application:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    token = os.environ["SLACK_BOT_TOKEN"]
    client = AsyncWebClient(token=token, base_url=os.environ.get("SLACK_API_URL"))
    bolt = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client)

    @bolt.command(os.environ.get("SLACK_COMMAND", "/pm"))
    async def trivial(ack) -> None:  # noqa: ANN001 (Bolt injects by name)
        await ack("ok")

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", _healthz)
    return app


def main(kind: str) -> None:
    app = bare_bolt_app() if kind == "bolt" else bare_aiohttp_app()
    loop = loop_factory()()  # liaison serve's (adapters.event_loop)
    web.run_app(
        app, host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None, loop=loop
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "aiohttp")
