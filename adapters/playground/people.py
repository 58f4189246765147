"""The simulated workspace: who can speak, which channels exist, who is in them, and how a
line typed on the page becomes a `Request` of platform "playground"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.requests import Action, Actor, Place, Request

PLATFORM = "playground"
HOME_TENANT = "playground"
CLIENT_TENANT = "playground-acme"  # the client's own organisation
TEAM_CHANNEL = "team"
CLIENT_CHANNEL = "client"


@dataclass(frozen=True, slots=True)
class Speaker:
    user_id: str
    name: str
    label: str  # what the picker says about them
    external: bool = False

    def actor(self) -> Actor:
        tenant = CLIENT_TENANT if self.external else HOME_TENANT
        return Actor(PLATFORM, tenant, self.user_id, self.name, external=self.external)


@dataclass(frozen=True, slots=True)
class Channel:
    channel_id: str
    name: str
    shared: bool  # shared with the client's organisation


ROSTER: tuple[Speaker, ...] = (
    Speaker("ann", "Ann", "Ann, the PM"),
    Speaker("bob", "Bob", "Bob, developer (team)"),
    Speaker("dana", "Dana", "Dana, designer (team)"),
    Speaker("carol", "Carol", "Carol, client (other organisation)", True),
)
CHANNELS: tuple[Channel, ...] = (
    Channel(TEAM_CHANNEL, "team", shared=False),
    Channel(CLIENT_CHANNEL, "acme-shared", shared=True),
)
SPEAKERS = {s.user_id: s for s in ROSTER}


def speaker_named(user_id: str) -> Speaker:
    try:
        return SPEAKERS[user_id]
    except KeyError:
        raise ValueError(f"no one called {user_id!r} in the playground") from None


def dm_of(speaker: Speaker) -> str:
    return f"dm:{speaker.user_id}"


def places_of(speaker: Speaker) -> list[str]:
    """The places a speaker can see: the client is only in the shared channel, like in
    Slack Connect or a Teams shared channel; everyone has a direct message with Liaison."""
    channels = [c.channel_id for c in CHANNELS if c.shared or not speaker.external]
    return [*channels, dm_of(speaker)]


def place_for(speaker: Speaker, place_id: str) -> Place:
    if place_id not in places_of(speaker):
        raise ValueError(f"{speaker.name} is not in {place_id!r}")
    if place_id.startswith("dm:"):
        return Place(PLATFORM, HOME_TENANT, place_id, "dm", name=speaker.name)
    channel = next(c for c in CHANNELS if c.channel_id == place_id)
    return Place(PLATFORM, HOME_TENANT, channel.channel_id, "channel", channel.name, channel.shared)


MENTION_RE = re.compile(r"(?<![\w<])@([A-Za-z][\w.-]*)")


def with_mentions(text: str) -> str:
    """`@bob` becomes `<@bob|Bob>`, as the platform's @-picker would insert it, for the
    people of the roster; text inside double quotes is left as typed."""
    parts = text.split('"')
    for index in range(0, len(parts), 2):  # the even parts are outside quotes
        parts[index] = MENTION_RE.sub(_mention, parts[index])
    return '"'.join(parts)


def _mention(match: re.Match[str]) -> str:
    speaker = SPEAKERS.get(match.group(1).lower())
    return f"<@{speaker.user_id}|{speaker.name}>" if speaker else match.group(0)


def build_request(
    speaker: Speaker,
    place_id: str,
    *,
    at: datetime,
    text: str | None = None,
    action: Action | None = None,
) -> Request:
    return Request(
        actor=speaker.actor(),
        place=place_for(speaker, place_id),
        text=with_mentions(text) if text is not None else None,
        action=action,
        received_at=at,
    )
