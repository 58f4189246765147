"""POST /api/messages on the one aiohttp application, and the Teams deliverer for the outbox.

The edge is ours, not CloudAdapter.process: it answers 401 for a missing or malformed bearer
token (the SDK answers 500 for the latter) and keeps the raw JSON of the activity."""

from __future__ import annotations

import logging
from typing import Any

import requests
from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError

from adapters.hosts import is_loopback
from adapters.runtime import Runtime
from adapters.teams.auth import TokenCredentialFactory, sdk_configuration, well_formed_bearer
from adapters.teams.deliver import TeamsDeliverer
from adapters.teams.turn import TeamsTurn
from bot.settings import Settings

log = logging.getLogger("liaison.teams")
ROUTE = "/api/messages"


class TeamsEndpoint:
    def __init__(
        self, *, adapter: CloudAdapter, turn: TeamsTurn, auth_required: bool, disabled: bool = False
    ) -> None:
        self.adapter = adapter
        self.turn = turn
        self.auth_required = auth_required
        # No app id on a public address: nobody could be authenticated, so nobody is let in.
        self.disabled = disabled

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = await request.json()
            activity = Activity().deserialize(body)
        except (ValueError, DeserializationError):
            return web.json_response({"error": "not a Bot Framework activity"}, status=400)
        if not isinstance(body, dict) or not activity.type:
            return web.json_response({"error": "not a Bot Framework activity"}, status=400)
        header = request.headers.get("Authorization")
        if self.disabled:
            return _unauthorized("Teams is not configured: MICROSOFT_APP_ID is not set")
        if self.auth_required and not well_formed_bearer(header):
            return _unauthorized("missing or malformed bearer token")
        try:
            authenticated = await self.adapter.bot_framework_authentication.authenticate_request(
                activity, header or None
            )
        except requests.RequestException as error:
            log.error("Teams: could not fetch the Bot Framework signing keys: %s", error)
            return web.json_response({"error": "signing keys unavailable"}, status=503)
        except Exception as error:  # an invalid token in any of the SDK's ways of saying so
            return _unauthorized(type(error).__name__)

        async def logic(context: Any) -> None:
            await self.turn.run(context, body)

        invoke = await self.adapter.process_activity(authenticated, activity, logic)
        if invoke:
            return web.json_response(serializer_helper(invoke.body), status=invoke.status)
        return web.Response(status=201)


def _unauthorized(why: str) -> web.Response:
    log.info("Teams: refused an unauthenticated request (%s)", why)
    return web.json_response({"error": "unauthorized"}, status=401)


def mount_teams(app: web.Application, runtime: Runtime) -> TeamsEndpoint:
    """Always mounted. Without MICROSOFT_APP_ID authentication is off (the Emulator)."""
    settings = runtime.settings
    managed = settings.microsoft_app_type.lower() == "userassignedmsi"
    # Managed identities keep the SDK's own credentials; passwords use our async fetcher.
    credentials = None if managed else TokenCredentialFactory(settings)
    authentication = ConfigurationBotFrameworkAuthentication(
        sdk_configuration(settings), credentials_factory=credentials
    )
    adapter = CloudAdapter(authentication)
    turn = TeamsTurn(
        engine=runtime.engine,
        sessions=runtime.sessions,
        clock=runtime.engine.clock,
        connector_key=adapter.BOT_CONNECTOR_CLIENT_KEY,
    )
    emulator_only = not settings.microsoft_app_id and not is_loopback(settings.host)
    endpoint = TeamsEndpoint(
        adapter=adapter,
        turn=turn,
        auth_required=bool(settings.microsoft_app_id),
        disabled=emulator_only,
    )
    app.router.add_post(ROUTE, endpoint.handle)
    runtime.deliverers[TeamsDeliverer.platform] = TeamsDeliverer(
        adapter=adapter,
        sessions=runtime.sessions,
        app_id=settings.microsoft_app_id,
        credentials=credentials,
    )
    _check_credentials(settings)
    return endpoint


def _check_credentials(settings: Settings) -> None:
    kind = settings.microsoft_app_type.lower()
    if settings.microsoft_app_id and kind != "userassignedmsi":
        if not settings.microsoft_app_password:
            log.error("Teams: MICROSOFT_APP_ID is set without MICROSOFT_APP_PASSWORD")
        if kind == "singletenant" and not settings.microsoft_app_tenant_id:
            log.error("Teams: a SingleTenant bot needs MICROSOFT_APP_TENANT_ID")
    if not settings.microsoft_app_id and not is_loopback(settings.host):
        log.warning(
            "Teams: off. MICROSOFT_APP_ID is not set and %s listens on %s, so %s refuses "
            "every activity; set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD to enable Teams.",
            "liaison serve",
            settings.host,
            ROUTE,
        )
    elif not settings.microsoft_app_id:
        log.warning(
            "Teams: MICROSOFT_APP_ID is not set, so %s accepts activities WITHOUT "
            "AUTHENTICATION. Use this only with the Bot Framework Emulator on your own "
            "machine; set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD before exposing it.",
            ROUTE,
        )
