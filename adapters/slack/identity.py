"""Who is asking and where: Slack users and channels, looked up once an hour at most.

A user is external (a client) when Slack says `is_stranger`, when they are a guest of our own
workspace (`is_restricted`: multi-channel, `is_ultra_restricted`: single-channel guest, the
usual way agencies invite clients), or when their team differs from the installing team and
they are not in the same Enterprise Grid organisation.

A lookup that fails is never remembered: the caller decides for the client-safe side (an
unknown person is external, an unknown channel is shared), and asks again next time, or,
after a 429, once the `Retry-After` Slack named has passed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.pictures import ShownCharts

log = logging.getLogger("liaison.slack")

HOUR = 3600.0

Found = TypeVar("Found")


def tenant_key(enterprise_id: str | None, team_id: str | None) -> str:
    """The engine's tenant for a Slack workspace: `T123`, or `E123:T123` on Enterprise Grid."""
    if enterprise_id and team_id:
        return f"{enterprise_id}:{team_id}"
    return team_id or enterprise_id or ""


def split_tenant(tenant: str) -> tuple[str | None, str | None]:
    """(enterprise_id, team_id) of a tenant made by `tenant_key`."""
    if ":" in tenant:
        enterprise_id, team_id = tenant.split(":", 1)
        return enterprise_id, team_id
    if tenant.startswith("E"):
        return tenant, None
    return None, tenant or None


@dataclass(frozen=True, slots=True)
class SlackUser:
    user_id: str
    team_id: str | None
    enterprise_id: str | None
    name: str
    timezone: str | None = None
    is_stranger: bool = False
    is_guest: bool = False
    locale: str | None = None

    def is_external_to(self, home_enterprise: str | None, home_team: str | None) -> bool:
        if self.is_stranger or self.is_guest:
            return True
        if home_enterprise and self.enterprise_id == home_enterprise:
            return False
        return bool(self.team_id and home_team and self.team_id != home_team)


@dataclass(frozen=True, slots=True)
class SlackChannel:
    channel_id: str
    name: str | None
    is_ext_shared: bool = False


def user_from_info(data: dict[str, Any]) -> SlackUser:
    """A `users.info` user object -> SlackUser."""
    profile = data.get("profile") or {}
    enterprise = data.get("enterprise_user") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or data.get("real_name")
        or data.get("name")
        or data["id"]
    )
    return SlackUser(
        user_id=data["id"],
        team_id=data.get("team_id"),
        enterprise_id=enterprise.get("enterprise_id"),
        name=name,
        timezone=data.get("tz"),
        is_stranger=bool(data.get("is_stranger")),
        is_guest=bool(data.get("is_restricted") or data.get("is_ultra_restricted")),
        locale=data.get("locale") if isinstance(data.get("locale"), str) else None,
    )


def channel_from_info(data: dict[str, Any]) -> SlackChannel:
    return SlackChannel(
        channel_id=data["id"],
        name=data.get("name"),
        is_ext_shared=bool(data.get("is_ext_shared")),
    )


class LookupFailed(Exception):
    """users.info or conversations.info did not answer; `retry_after` is how long Slack
    asked us to wait (a 429's `Retry-After`), else 0."""

    def __init__(self, retry_after: float = 0.0) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class _Cache(Generic[Found]):
    """Remembers each successful lookup; concurrent askers for the same key share one call.
    A failure is not remembered (None now, a fresh call next time) except that after a 429
    the key is not asked for again before its `Retry-After` has passed."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._entries: dict[str, tuple[float, Found]] = {}
        self._not_before: dict[str, float] = {}
        self._pending: dict[str, asyncio.Future[Found | None]] = {}

    async def get(self, key: str, lookup: Callable[[], Awaitable[Found]]) -> Found | None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self.clock():
            return entry[1]
        if self._not_before.get(key, 0.0) > self.clock():
            return None
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Found | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            found = await self._look_up(key, lookup)
            future.set_result(found)
            return found
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._pending[key]

    async def _look_up(self, key: str, lookup: Callable[[], Awaitable[Found]]) -> Found | None:
        try:
            found = await lookup()
        except LookupFailed as failed:
            if failed.retry_after > 0:
                self._not_before[key] = self.clock() + failed.retry_after
            return None
        self._not_before.pop(key, None)
        self._entries[key] = (self.clock() + HOUR, found)
        return found

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)


class Directory:
    """users.info and conversations.info, cached per user and per channel for an hour.
    None means the lookup failed: the caller decides for the client-safe side. And the
    bot's direct message with each person (conversations.open), which a private chart is
    uploaded to, and the charts uploaded lately to each conversation."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._users: _Cache[SlackUser] = _Cache(clock)
        self._channels: _Cache[SlackChannel] = _Cache(clock)
        self._direct: _Cache[str] = _Cache(clock)
        self.charts = ShownCharts()  # uploaded lately, by conversation (shown again by id)

    async def user(self, client: AsyncWebClient, user_id: str) -> SlackUser | None:
        async def lookup() -> SlackUser:
            data = await _call(client.users_info, user=user_id, include_locale=True)
            return user_from_info(data["user"])

        return await self._users.get(user_id, lookup)

    async def channel(self, client: AsyncWebClient, channel_id: str) -> SlackChannel | None:
        async def lookup() -> SlackChannel:
            data = await _call(client.conversations_info, channel=channel_id)
            return channel_from_info(data["channel"])

        return await self._channels.get(channel_id, lookup)

    async def direct_message(self, client: AsyncWebClient, bot_user_id: str, user_id: str) -> str:
        """The id of the bot's direct message with `user_id`. Slack gives the same one each
        time, so it is asked for once an hour, not with every private chart (a budget
        asked for in a channel): conversations.open is rate limited like any call. Its
        failure is raised (SlackApiError), as the call's own would be."""

        async def lookup() -> str:
            opened = await client.conversations_open(users=user_id)
            return str(opened["channel"]["id"])

        found = await self._direct.get(_pair(bot_user_id, user_id), lookup)
        assert found is not None  # its lookup raises rather than fail quietly (LookupFailed)
        return found

    def forget_direct_message(self, bot_user_id: str, user_id: str) -> None:
        """An upload to the kept conversation failed: open it afresh next time."""
        self._direct.forget(_pair(bot_user_id, user_id))


def _pair(bot_user_id: str, user_id: str) -> str:
    # A direct message is between one installation's bot user and one person.
    return f"{bot_user_id} {user_id}"


async def _call(method: Callable[..., Awaitable[Any]], **args: str) -> dict[str, Any]:
    """The answer's data, or LookupFailed (with a 429's Retry-After)."""
    try:
        response = await method(**args)
    except SlackApiError as error:
        log.warning("Slack lookup %s failed: %s", args, error.response.get("error"))
        raise LookupFailed(_retry_after(error)) from None
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("Slack lookup %s failed: %s", args, type(error).__name__)
        raise LookupFailed() from None
    if not isinstance(response.data, dict):
        raise LookupFailed()
    return response.data


def _retry_after(error: SlackApiError) -> float:
    if error.response.status_code != 429:
        return 0.0
    headers = {str(k).lower(): v for k, v in (error.response.headers or {}).items()}
    try:
        return max(float(headers.get("retry-after", 1)), 1.0)
    except (TypeError, ValueError):
        return 1.0
