"""Web API clients per workspace: one bot token, or the installations OAuth stored."""

from __future__ import annotations

from typing import Protocol

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.identity import split_tenant


def api_base(url: str) -> str:
    """slack-sdk joins method names onto the base URL, which therefore ends with `/`."""
    return url if url.endswith("/") else url + "/"


def web_client(token: str | None, api_url: str) -> AsyncWebClient:
    # No retry handlers: the outbox owns retries and backoff, so a failure is recorded.
    return AsyncWebClient(token=token, base_url=api_base(api_url), retry_handlers=[])


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

    def __init__(self, store: AsyncInstallationStore, api_url: str) -> None:
        self.store = store
        self.api_url = api_url

    async def for_tenant(self, tenant: str) -> AsyncWebClient:
        enterprise_id, team_id = split_tenant(tenant)
        bot = await self.store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id:
            bot = await self.store.async_find_bot(
                enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True
            )
        if bot is None:
            raise NoInstallation(f"Liaison is not installed in Slack workspace {tenant}")
        return web_client(bot.bot_token, self.api_url)
