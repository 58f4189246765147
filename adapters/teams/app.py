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

from adapters.hosts import is_local_host_header, is_loopback
from adapters.runtime import Runtime
from adapters.teams.auth import (
    ServiceUrls,
    TokenCredentialFactory,
    sdk_configuration,
    well_formed_bearer,
)
from adapters.teams.deliver import TeamsDeliverer
from adapters.teams.turn import TeamsTurn
from bot.settings import Settings

log = logging.getLogger("liaison.teams")
ROUTE = "/api/messages"


class TeamsEndpoint:
    def __init__(
        self,
        *,
        adapter: CloudAdapter,
        turn: TeamsTurn,
        auth_required: bool,
    ) -> None:
        self.adapter = adapter
        self.turn = turn
        self.auth_required = auth_required

    async def handle(self, request: web.Request) -> web.StreamResponse:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        try:
            body = await request.json()
            activity = Activity().deserialize(body)
        except (ValueError, DeserializationError):
            return web.json_response({"error": "not a Bot Framework activity"}, status=400)
        if not isinstance(body, dict) or not activity.type:
            return web.json_response({"error": "not a Bot Framework activity"}, status=400)
        header = request.headers.get("Authorization")
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
            await self.turn.run(context, body, authenticated=self.auth_required)

        invoke = await self.adapter.process_activity(authenticated, activity, logic)
        if invoke:
            return web.json_response(serializer_helper(invoke.body), status=invoke.status)
        return web.Response(status=201)

    def _refusal(self, request: web.Request) -> web.Response | None:
        """What a web page could send is refused: Bot Framework posts exactly
        `application/json` and never an `Origin`; `text/plain; application/json` is a
        "simple" request a page may send without a CORS preflight."""
        if request.content_type != "application/json":
            return web.json_response({"error": "expected application/json"}, status=415)
        if "Origin" in request.headers:
            log.info("Teams: refused a request with an Origin header (a web page)")
            return web.json_response({"error": "browser requests are not accepted"}, status=403)
        # Without authentication only this machine may call, by its own name (DNS rebinding).
        if not self.auth_required and not is_local_host_header(
            request.headers.get("Host"), _listen_port(request)
        ):
            log.info("Teams: refused an unauthenticated request for another Host")
            return web.json_response({"error": "unexpected Host"}, status=403)
        return None


def _listen_port(request: web.Request) -> int:
    """The port this request arrived on (the one the service listens on)."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return int(sockname[1]) if sockname else -1


def _unauthorized(why: str) -> web.Response:
    log.info("Teams: refused an unauthenticated request (%s)", why)
    return web.json_response({"error": "unauthorized"}, status=401)


def mount_teams(app: web.Application, runtime: Runtime) -> TeamsEndpoint | None:
    """Mounted when Teams is configured (MICROSOFT_APP_ID), or for the Bot Framework
    Emulator when LIAISON_TEAMS_EMULATOR is on and the service listens on loopback only."""
    settings = runtime.settings
    _check_credentials(settings)
    if not settings.teams_credentials and not (
        settings.teams_emulator and is_loopback(settings.host)
    ):
        return None
    managed = settings.microsoft_app_type.lower() == "userassignedmsi"
    # Managed identities keep the SDK's own credentials; passwords use our async fetcher.
    credentials = None if managed else TokenCredentialFactory(settings)
    authentication = ConfigurationBotFrameworkAuthentication(
        sdk_configuration(settings), credentials_factory=credentials
    )
    adapter = CloudAdapter(authentication)
    allowed = ServiceUrls(settings)
    turn = TeamsTurn(
        engine=runtime.engine,
        sessions=runtime.sessions,
        clock=runtime.engine.clock,
        connector_key=adapter.BOT_CONNECTOR_CLIENT_KEY,
        allowed=allowed,
    )
    endpoint = TeamsEndpoint(
        adapter=adapter,
        turn=turn,
        auth_required=settings.teams_credentials,
    )
    app.router.add_post(ROUTE, endpoint.handle)
    runtime.deliverers[TeamsDeliverer.platform] = TeamsDeliverer(
        adapter=adapter,
        sessions=runtime.sessions,
        app_id=settings.microsoft_app_id,
        credentials=credentials,
        allowed=allowed,
    )
    return endpoint


def _check_credentials(settings: Settings) -> None:
    kind = settings.microsoft_app_type.lower()
    if settings.microsoft_app_id and kind != "userassignedmsi":
        if not settings.microsoft_app_password:
            log.error("Teams: MICROSOFT_APP_ID is set without MICROSOFT_APP_PASSWORD")
        if kind == "singletenant" and not settings.microsoft_app_tenant_id:
            log.error("Teams: a SingleTenant bot needs MICROSOFT_APP_TENANT_ID")
    if settings.teams_credentials or not settings.teams_emulator:
        return
    if not is_loopback(settings.host):
        log.warning(
            "Teams: off. LIAISON_TEAMS_EMULATOR is on but liaison serve listens on %s; the "
            "emulator endpoint is served on loopback only. Set MICROSOFT_APP_ID and "
            "MICROSOFT_APP_PASSWORD to enable Teams.",
            settings.host,
        )
    else:
        log.warning(
            "Teams: LIAISON_TEAMS_EMULATOR is on and MICROSOFT_APP_ID is not set, so %s "
            "accepts activities WITHOUT AUTHENTICATION from this machine (for the Bot "
            "Framework Emulator). Nothing from those turns is kept for later posts.",
            ROUTE,
        )
