"""Web API clients per workspace: one bot token, or the installations OAuth stored."""

from __future__ import annotations

from typing import Protocol

import aiohttp
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.identity import split_tenant


def api_base(url: str) -> str:
    """slack-sdk joins method names onto the base URL, which therefore ends with `/`."""
    return url if url.endswith("/") else url + "/"


# slack-sdk's own timeout for a call, which a shared session must set itself.
CALL_TIMEOUT_SECONDS = 30


def web_client(
    token: str | None, api_url: str, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    # No retry handlers: the outbox owns retries and backoff, so a failure is recorded.
    return AsyncWebClient(
        token=token, base_url=api_base(api_url), retry_handlers=[], session=session
    )


class KeptConnections:
    """One aiohttp session for every Web API call of this process, so that connections to
    Slack are kept open and reused. Without a session, slack-sdk opens a session, and a new
    connection (TLS included), for every call: a user lookup, a reply, each step of an
    upload. Opened at start-up (aiohttp sessions belong to the running loop)."""

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None
        self._clients: list[AsyncWebClient] = []

    def share_with(self, client: AsyncWebClient) -> AsyncWebClient:
        """Give `client` the session once open (Bolt's per-request clients copy it)."""
        self._clients.append(client)
        client.session = self.session
        return client

    async def open(self) -> None:
        timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT_SECONDS)
        self.session = aiohttp.ClientSession(timeout=timeout)
        for client in self._clients:
            client.session = self.session

    async def close(self) -> None:
        if self.session is not None:
            for client in self._clients:
                client.session = None
            await self.session.close()
            self.session = None


class NoInstallation(LookupError):
    """Liaison is not (or no longer) installed in that workspace."""


class ClientSource(Protocol):
    async def for_tenant(self, tenant: str) -> AsyncWebClient: ...


class SingleWorkspace:
    """SLACK_BOT_TOKEN: one workspace, one client."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def for_tenant(self, tenant: str) -> AsyncWebClient:
        return self.client


class Installations:
    """OAuth mode: the bot token of the workspace (or Grid organisation) that installed us."""

    def __init__(
        self, store: AsyncInstallationStore, api_url: str, connections: KeptConnections
    ) -> None:
        self.store = store
        self.api_url = api_url
        self.connections = connections

    async def for_tenant(self, tenant: str) -> AsyncWebClient:
        enterprise_id, team_id = split_tenant(tenant)
        bot = await self.store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id:
            bot = await self.store.async_find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        if bot is None:
            raise NoInstallation(f"Liaison is not installed in Slack workspace {tenant}")
        return web_client(bot.bot_token, self.api_url, self.connections.session)
