"""Hosting: a slack-bolt AsyncApp mounted in the one aiohttp application.

Single-workspace mode with SLACK_BOT_TOKEN; multi-workspace mode (OAuth install pages and
a database-backed installation store) with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET; Socket
Mode on top of either when SLACK_APP_TOKEN is set. Bolt verifies every request's signature
and timestamp (401 otherwise) before anything of ours runs."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from adapters.runtime import Runtime
from adapters.slack import PLATFORM
from adapters.slack.clients import (
    ClientSource,
    Installations,
    KeptConnections,
    SingleWorkspace,
    web_client,
)
from adapters.slack.deliver import SlackDeliverer
from adapters.slack.identity import Directory
from adapters.slack.listeners import FAST_REPLY_SECONDS, RECEIVED_AT, SlackBridge
from adapters.slack.oauth import INSTALL_PATH, REDIRECT_PATH, installation_store, oauth_settings
from bot.settings import Settings

log = logging.getLogger("liaison.slack")

EVENTS_PATH = "/slack/events"
BOLT_KEY = web.AppKey("slack_bolt", AsyncApp)


def build_bolt_app(
    settings: Settings,
    runtime: Runtime,
    connections: KeptConnections,
    *,
    fast_reply: float = FAST_REPLY_SECONDS,
) -> tuple[AsyncApp, ClientSource]:
    """The Bolt app with our listeners, and where the outbox gets each workspace's client."""
    if not settings.slack_signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is required for Slack")
    clients: ClientSource
    if settings.slack_client_id:
        if not settings.slack_client_secret:
            raise ValueError("SLACK_CLIENT_SECRET is required with SLACK_CLIENT_ID")
        store = installation_store(settings, runtime.db, runtime.secrets)
        bolt = AsyncApp(
            signing_secret=settings.slack_signing_secret,
            client=connections.share_with(web_client(None, settings.slack_api_url)),
            oauth_settings=oauth_settings(settings, runtime.db, store),
            process_before_response=True,  # see SlackBridge._after_ack
        )
        bolt.enable_token_revocation_listeners()
        clients = Installations(store, settings.slack_api_url, connections)
    else:
        client = connections.share_with(
            web_client(settings.slack_bot_token, settings.slack_api_url)
        )
        bolt = AsyncApp(
            signing_secret=settings.slack_signing_secret,
            client=client,
            process_before_response=True,  # see SlackBridge._after_ack
        )
        clients = SingleWorkspace(client)
    bridge = SlackBridge(
        engine=runtime.engine,
        directory=Directory(),
        command=settings.slack_command,
        fast_reply=fast_reply,
    )
    bridge.register(bolt)
    return bolt, clients


def mount_slack(
    app: web.Application, runtime: Runtime, *, fast_reply: float = FAST_REPLY_SECONDS
) -> AsyncApp:
    """POST /slack/events (and the OAuth pages), Socket Mode if configured, and the
    deliverer the outbox posts through."""
    settings = runtime.settings
    connections = KeptConnections()
    bolt, clients = build_bolt_app(settings, runtime, connections, fast_reply=fast_reply)
    app[BOLT_KEY] = bolt
    app.on_startup.append(lambda _: connections.open())
    app.on_cleanup.append(lambda _: connections.close())

    async def events(request: web.Request) -> web.Response:
        received_at = time.monotonic()
        bolt_request = await to_bolt_request(request)
        bolt_request.context[RECEIVED_AT] = received_at
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    app.router.add_post(EVENTS_PATH, events)
    flow = bolt.oauth_flow
    if flow is not None:

        async def install(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await flow.handle_installation(await to_bolt_request(request))
            )

        async def redirect(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await flow.handle_callback(await to_bolt_request(request))
            )

        app.router.add_get(INSTALL_PATH, install)
        app.router.add_get(REDIRECT_PATH, redirect)
    if settings.slack_app_token:
        _socket_mode(app, bolt, settings.slack_app_token)
    runtime.deliverers[PLATFORM] = SlackDeliverer(clients)
    mode = "multi-workspace (OAuth)" if flow is not None else "single workspace"
    log.info("Slack: %s at %s", mode, EVENTS_PATH)
    return bolt


def _socket_mode(app: web.Application, bolt: AsyncApp, app_token: str) -> None:
    """Socket Mode: Slack delivers over a websocket we open, so no public URL is needed."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(bolt, app_token)

    async def connect(_: web.Application) -> None:
        await handler.connect_async()
        log.info("Slack: Socket Mode connected")

    async def close(_: web.Application) -> None:
        await handler.close_async()

    app.on_startup.append(connect)
    app.on_cleanup.append(close)
