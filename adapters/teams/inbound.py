"""Bot Framework activity (the JSON Teams posts) -> the engine's Request.

Small extractor functions over the raw JSON, one per field, so that odd payload shapes are
handled in one place and tested with recorded activities. No botbuilder here: the SDK's
models drop fields Teams adds (`userRole`, `tenantId` on accounts)."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime
from typing import Any

from bot.engine.engine import PREFIXES
from bot.engine.parsing import MAX_LINE
from bot.requests import Action, Actor, Place, Request

PLATFORM = "teams"
# Form inputs are named `field.<id>` so that they cannot collide with action_id/value.
FIELD_PREFIX = "field."
# Linear: `[^<]*` cannot run past the next tag, so no match scans the rest of the text.
AT_TAG_RE = re.compile(r"<at>([^<]*)</at>", re.IGNORECASE)
SPACES_RE = re.compile(r"[ \t\u00a0]+")

Activity = dict[str, Any]
# Room for `<at>` markup around a command the parser accepts; text beyond this is refused by
# the parser anyway, so no pattern or replacement ever runs over more than this.
MAX_TEXT = 4 * MAX_LINE
MAX_MENTIONS = 50


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# --- where -------------------------------------------------------------------------------


def conversation_id(activity: Activity) -> str:
    """The conversation without `;messageid=...`: a reply thread belongs to its channel."""
    return _text(_get(activity, "conversation", "id")).split(";messageid=")[0]


def host_tenant(activity: Activity) -> str:
    """The tenant whose team or chat this is (the emulator has none: its channel id)."""
    return (
        _text(_get(activity, "channelData", "tenant", "id"))
        or _text(_get(activity, "conversation", "tenantId"))
        or _text(activity.get("channelId"))
        or "unknown"
    )


def is_personal(activity: Activity) -> bool:
    kind = _get(activity, "conversation", "conversationType")
    if kind:
        return kind == "personal"
    return not _get(activity, "conversation", "isGroup")


def place_of(activity: Activity) -> Place:
    personal = is_personal(activity)
    name = (
        _get(activity, "channelData", "channel", "name")
        or _get(activity, "conversation", "name")
        or _get(activity, "channelData", "team", "name")
    )
    shared = _get(activity, "channelData", "channel", "membershipType") == "shared"
    return Place(
        platform=PLATFORM,
        tenant=host_tenant(activity),
        channel_id=conversation_id(activity),
        kind="dm" if personal else "channel",
        name=name if isinstance(name, str) else None,
        shared_externally=bool(shared),
    )


# --- who ---------------------------------------------------------------------------------


def user_tenant(activity: Activity) -> str | None:
    """The sender's own tenant when Teams says it (cross-tenant chats, shared channels)."""
    return (
        _text(_get(activity, "from", "tenantId"))
        or _text(_get(activity, "channelData", "membershipSource", "tenantId"))
        or None
    )


def is_guest(activity: Activity) -> bool:
    roles = (_get(activity, "from", "userRole"), _get(activity, "channelData", "userRole"))
    return any(isinstance(r, str) and r.lower() in ("guest", "anonymous") for r in roles)


def is_external(activity: Activity) -> bool:
    """A guest, an anonymous user, or someone whose home tenant is not the host's."""
    own = user_tenant(activity)
    return is_guest(activity) or (own is not None and own != host_tenant(activity))


def timezone_of(activity: Activity) -> str | None:
    for entity in activity.get("entities") or ():
        if isinstance(entity, dict) and entity.get("type") == "clientInfo":
            zone = entity.get("timezone")
            if isinstance(zone, str) and "/" in zone:
                return zone
    zone = activity.get("localTimezone")
    return zone if isinstance(zone, str) and "/" in zone else None


def actor_of(activity: Activity) -> Actor:
    user_id = _text(_get(activity, "from", "id")) or "unknown"
    return Actor(
        platform=PLATFORM,
        tenant=user_tenant(activity) or host_tenant(activity),
        user_id=user_id,
        name=_text(_get(activity, "from", "name")) or user_id,
        timezone=timezone_of(activity),
        external=is_external(activity),
        locale=_text(activity.get("locale")) or None,
    )


# --- what --------------------------------------------------------------------------------


def _mentions(activity: Activity) -> list[dict[str, Any]]:
    return [
        e
        for e in activity.get("entities") or ()
        if isinstance(e, dict)
        and e.get("type") == "mention"
        and isinstance(e.get("mentioned"), dict)
    ]


def mentions_bot(activity: Activity) -> bool:
    bot_id = _get(activity, "recipient", "id")
    return any(m["mentioned"].get("id") == bot_id for m in _mentions(activity))


def command_text(activity: Activity) -> str:
    """The message text with the bot's @mention removed and other people's mentions written
    the way the parser reads them (`<@29:1abc|Ann_Lee>`: no spaces inside a token)."""
    text = _text(activity.get("text"))
    if len(text) > MAX_TEXT:
        # Longer than any command: cut before any pattern runs; the parser refuses it.
        return text[:MAX_TEXT]
    bot_id = _get(activity, "recipient", "id")
    for mention in _mentions(activity)[:MAX_MENTIONS]:
        tag = _text(mention.get("text"))
        if not tag or tag not in text:
            continue
        who = mention["mentioned"]
        if who.get("id") == bot_id:
            replacement = " "
        else:
            name = SPACES_RE.sub("_", _text(who.get("name")).strip().lstrip("@")) or "someone"
            replacement = f" <@{who.get('id')}|{name}> "
        text = text.replace(tag, replacement)
    # A mention Teams did not list as an entity is not trusted: keep only its words.
    text = AT_TAG_RE.sub(lambda m: m.group(1), text)
    return SPACES_RE.sub(" ", html.unescape(text)).strip()


def action_of(activity: Activity) -> Action | None:
    """An Adaptive Card `Action.Submit`: our data plus the card's inputs, in `value`."""
    value = activity.get("value")
    if not isinstance(value, dict) or not isinstance(value.get("action_id"), str):
        return None
    fields = {
        key[len(FIELD_PREFIX) :]: str(entry)
        for key, entry in value.items()
        if key.startswith(FIELD_PREFIX) and entry is not None
    }
    return Action(action_id=value["action_id"], value=str(value.get("value") or ""), fields=fields)


def event_id(activity: Activity) -> str | None:
    """Teams message ids are unique within a conversation only: qualify them."""
    activity_id = activity.get("id")
    if not isinstance(activity_id, str) or not activity_id:
        return None
    key = f"{_get(activity, 'conversation', 'id')}|{activity_id}"
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def to_request(activity: Activity, received_at: datetime | None = None) -> Request | None:
    """The engine request for a message activity, or None when it is not meant for us."""
    if activity.get("type") != "message":
        return None
    if not _text(_get(activity, "from", "id")) or not conversation_id(activity):
        # Every message the Bot Framework sends says who and where: without them there is
        # nobody to answer and no place to answer in (never a made-up "unknown" person).
        return None
    base = {
        "actor": actor_of(activity),
        "place": place_of(activity),
        "event_id": event_id(activity),
        "received_at": received_at,
    }
    action = action_of(activity)
    if action is not None:
        return Request(action=action, **base)
    text = command_text(activity)
    if not text:
        return None
    # "pm status" in a channel addresses the bot without an @mention; the engine strips it.
    addressed = text.split(maxsplit=1)[0].lower() in PREFIXES
    if not is_personal(activity) and not mentions_bot(activity) and not addressed:
        # With channel-wide message permissions the bot would see all chatter: ignore it.
        return None
    return Request(text=text, **base)


# --- conversation updates ----------------------------------------------------------------


def _members(activity: Activity, key: str) -> list[str]:
    return [m.get("id") for m in activity.get(key) or () if isinstance(m, dict)]


def bot_added(activity: Activity) -> bool:
    bot_id = _get(activity, "recipient", "id")
    return activity.get("type") == "conversationUpdate" and bot_id in _members(
        activity, "membersAdded"
    )


def bot_removed(activity: Activity) -> bool:
    bot_id = _get(activity, "recipient", "id")
    return activity.get("type") == "conversationUpdate" and bot_id in _members(
        activity, "membersRemoved"
    )
