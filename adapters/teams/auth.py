"""Bot Framework authentication: the SDK's configuration, a token source that does not block
the event loop, and the bearer check that turns a malformed token into 401 (not 500)."""

from __future__ import annotations

import asyncio
import logging
import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import jwt
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import (
    AppCredentials,
    AuthenticationConstants,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
)

from bot.settings import Settings

log = logging.getLogger("liaison.teams.auth")
PUBLIC_LOGIN = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX.rstrip("/")
# Refresh a token this long before Azure AD says it expires.
EARLY_REFRESH_SECONDS = 300


def well_formed_bearer(header: str | None) -> bool:
    """`Bearer <JWT>` whose header part decodes; anything else is refused before the SDK."""
    if not header:
        return False
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token or token.count(".") != 2:
        return False
    try:
        jwt.get_unverified_header(token)
        jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return True


def sdk_configuration(settings: Settings) -> SimpleNamespace:
    """The attribute bag ConfigurationBotFrameworkAuthentication reads.

    With an overridden metadata or login URL the SDK needs every endpoint spelled out;
    the others keep their public-cloud values."""
    config = SimpleNamespace(
        APP_ID=settings.microsoft_app_id or "",
        APP_PASSWORD=settings.microsoft_app_password or "",
        APP_TYPE=settings.microsoft_app_type,
        APP_TENANTID=settings.microsoft_app_tenant_id or "",
    )
    if settings.botframework_openid_metadata_url or settings.botframework_login_url:
        constants = AuthenticationConstants
        config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
            settings.botframework_openid_metadata_url
            or constants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        )
        config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
            constants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
        )
        config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = constants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
        config.TO_CHANNEL_FROM_BOT_LOGIN_URL = login_url(settings, None)
        config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = constants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        config.OAUTH_URL = constants.OAUTH_URL
        config.CALLER_ID = CallerIdConstants.public_azure_channel
        config.VALIDATE_AUTHORITY = True
    return config


def login_url(settings: Settings, sdk_endpoint: str | None) -> str:
    """The authority that issues the bot's outbound tokens (tenant included)."""
    if settings.botframework_login_url:
        return settings.botframework_login_url.rstrip("/")
    endpoint = (sdk_endpoint or PUBLIC_LOGIN).rstrip("/")
    if endpoint == PUBLIC_LOGIN:
        tenant = (
            settings.microsoft_app_tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
        )
        return f"{PUBLIC_LOGIN}/{tenant}"
    return endpoint


class TokenRefused(ValueError):
    """The token endpoint said no; `error` is its OAuth error code (invalid_client, ...),
    never its description, which can quote the app id."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(f"token endpoint answered {status}" + (f" ({error})" if error else ""))
        self.status = status
        self.error = error


async def _json_or_nothing(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await response.json(content_type=None)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class FetchedToken(AppCredentials):
    """Credentials holding a token fetched beforehand; msrest reads it synchronously."""

    def __init__(self, app_id: str, oauth_scope: str, token: str | None, error: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=oauth_scope)
        self._token = token
        self._error = error

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self._token is None:
            raise PermissionError(f"no Bot Framework token: {self._error}")
        return self._token


class TokenCredentialFactory(PasswordServiceClientCredentialFactory):
    """App id + password credentials, tokens fetched with aiohttp and cached until expiry.

    The SDK's own factory calls MSAL synchronously on the event loop for every turn."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            settings.microsoft_app_id,
            settings.microsoft_app_password,
            settings.microsoft_app_tenant_id,
        )
        self._settings = settings
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = asyncio.Lock()

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if await self.is_authentication_disabled():
            return MicrosoftAppCredentials.empty()
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("that app id is not this bot's")
        try:
            token = await self.token(oauth_scope, login_url(self._settings, login_endpoint))
        except (TimeoutError, aiohttp.ClientError, KeyError, ValueError) as error:
            # Let the turn run; its reply fails and is queued for a retry instead.
            log.warning("could not get a Bot Framework token: %s", type(error).__name__)
            return FetchedToken(app_id, oauth_scope, None, type(error).__name__)
        return FetchedToken(app_id, oauth_scope, token, "")

    async def token(self, scope: str, authority: str) -> str:
        key = (scope, authority)
        async with self._lock:
            cached = self._tokens.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            form = {
                "grant_type": "client_credentials",
                "client_id": self.app_id,
                "client_secret": self.password or "",
                "scope": scope.rstrip("/") + "/.default",
            }
            timeout = aiohttp.ClientTimeout(total=30)
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(f"{authority}/oauth2/v2.0/token", data=form) as response,
            ):
                body = await _json_or_nothing(response)
                if response.status != 200:
                    raise TokenRefused(response.status, str(body.get("error") or ""))
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
            self._tokens[key] = (token, time.monotonic() + lifetime - EARLY_REFRESH_SECONDS)
            return token

    def forget_tokens(self) -> None:
        """After a 401 from the connector: fetch a fresh token next time."""
        self._tokens.clear()


# Where Microsoft runs the Bot Connector (public cloud, GCC, GCC High, DoD). A token is
# only ever sent to these over https, or to a service URL the install names itself.
MICROSOFT_SERVICE_HOSTS = ("smba.trafficmanager.net",)
MICROSOFT_SERVICE_DOMAINS = (
    ".botframework.com",
    ".botframework.us",
    ".botframework.azure.us",
    ".teams.microsoft.com",
    ".teams.microsoft.us",
)


def _normal(url: str) -> str:
    return url.strip().rstrip("/").lower()


class ServiceUrls:
    """Which `serviceUrl`s may receive the bot's Bot Framework token."""

    def __init__(self, settings: Settings) -> None:
        self.extra = {_normal(u) for u in settings.teams_service_urls.split(",") if u.strip()}

    def allowed(self, url: str | None) -> bool:
        if not url:
            return False
        if _normal(url) in self.extra:
            return True
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        return parts.scheme == "https" and (
            host in MICROSOFT_SERVICE_HOSTS or host.endswith(MICROSOFT_SERVICE_DOMAINS)
        )


async def bot_token(settings: Settings) -> str:
    """A Bot Framework token for talking to channels, asked for now (`liaison doctor`):
    raises TokenRefused when the app id or password is wrong."""
    scope = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
    return await TokenCredentialFactory(settings).token(scope, login_url(settings, None))
