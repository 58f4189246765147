"""What comes in: a neutral request built by an adapter from a platform's payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

PlaceKind = Literal["dm", "channel"]


@dataclass(frozen=True, slots=True)
class Actor:
    platform: str
    tenant: str
    user_id: str
    name: str
    timezone: str | None = None
    # A Slack Connect user from another organisation, a Teams guest or external user.
    external: bool = False
    # The person's language and region (`en-US`, `en-GB`): how they write 12/24.
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    platform: str
    tenant: str
    channel_id: str
    kind: PlaceKind = "channel"
    name: str | None = None
    # True when the platform says the channel is shared with another organisation.
    shared_externally: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    """A button press or card submit: the action id and the value the button carried."""

    action_id: str
    value: str = ""
    # Inputs of a submitted form (huddle answers, modal fields), by field id.
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Request:
    actor: Actor
    place: Place
    text: str | None = None
    action: Action | None = None
    event_id: str | None = None
    received_at: datetime | None = None
    # The platform takes the reply in its response to this very request (a Slack slash
    # command's acknowledgement), so answering a repeat of it again posts nothing twice.
    reply_inline: bool = False
