"""Small extractors from Slack payloads (slash command form bodies, `event_callback`
envelopes, `block_actions`, `view_submission`, `message_action`) to the engine's fields.
Odd payload shapes are handled here, in one place, and unit-tested."""

from __future__ import annotations

import json
import re
from typing import Any

from adapters.slack.render import FORM_ACTION, SEPARATOR
from bot.engine.parsing import MAX_LINE
from bot.requests import Action, PlaceKind

Payload = dict[str, Any]

# <@U123|ann>, <#C123|general>, <!here>, <!subteam^S1|@devs>, <https://x|label>
MARKUP_RE = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")
# Slack's markup makes a line longer than what was typed (`&amp;`, `<@U1|ann>`), but not
# four times longer: past this no command can come of it, and no pattern reads it. The
# engine then refuses it by its length.
MAX_MARKUP = 4 * MAX_LINE


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _link(target: str, label: str | None) -> str:
    if not label:
        return target
    if target.startswith("mailto:") or target.split("://", 1)[-1] == label:
        return label if target.startswith("mailto:") else target
    return f"{label} ({target})"


def clean_text(text: str, *, keep_mentions: bool = True) -> str:
    """Slack's message markup -> what the person typed. User mentions stay `<@U123|ann>`
    (the parser reads them as people) unless `keep_mentions` is false (then `@ann`)."""
    if len(text) > MAX_MARKUP:
        return text.strip()

    def plain(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "@":
            return match.group(0) if keep_mentions else f"@{label or target}"
        if sigil == "#":
            return f"#{label or target}"
        if sigil == "!":
            # <!here>, <!channel>, <!subteam^S1|@devs>, <!date^...|fallback>
            return label or f"@{target.split('^')[0]}"
        return _link(target, label)

    return _unescape(MARKUP_RE.sub(plain, text)).strip()


def strip_bot_mention(text: str, bot_user_id: str | None) -> str:
    """`<@UBOT> task add ...` -> `task add ...` (wherever the mention stands)."""
    if not bot_user_id or len(text) > MAX_MARKUP:
        return text.strip()
    # `[^<>]`, not `[^>]`: a label never holds `<`, and an unclosed `<@UBOT|` repeated
    # must not be read to the end of the text from each one (quadratic).
    return re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^<>]*)?>", " ", text).strip()


# --- who ------------------------------------------------------------------------------


def extract_user_id(body: Payload) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("id")
    if isinstance(user, str):
        return user
    if "user_id" in body:
        return body["user_id"]
    event = body.get("event")
    return extract_user_id(event) if isinstance(event, dict) else None


def extract_user_name(body: Payload) -> str | None:
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("name") or user.get("username")
    return body.get("user_name")


def extract_actor_team(body: Payload) -> str | None:
    """The asker's own team as the payload tells it (users.info is the authority)."""
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return user["team_id"]
    event = body.get("event")
    if isinstance(event, dict):
        return event.get("user_team") or event.get("team")
    return body.get("user_team") or body.get("team_id")


# --- where ----------------------------------------------------------------------------


def extract_channel_id(body: Payload) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict):
        return channel.get("id")
    if isinstance(channel, str):
        return channel
    if "channel_id" in body:
        return body["channel_id"]
    container = body.get("container")
    if isinstance(container, dict) and container.get("channel_id"):
        return container["channel_id"]
    event = body.get("event")
    return extract_channel_id(event) if isinstance(event, dict) else None


def extract_channel_name(body: Payload) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict):
        return channel.get("name")
    name = body.get("channel_name")
    return None if name in (None, "directmessage", "privategroup") else name


def extract_place_kind(body: Payload) -> PlaceKind:
    event = body.get("event")
    if isinstance(event, dict) and event.get("channel_type") in ("im", "app_home"):
        return "dm"
    if body.get("channel_name") == "directmessage":
        return "dm"
    channel_id = extract_channel_id(body) or ""
    return "dm" if channel_id.startswith("D") else "channel"


def extract_ext_shared_flag(body: Payload) -> bool:
    """The Events API envelope's `is_ext_shared_channel` (absent from slash commands and
    interactions): true when the event happened in a channel shared with another org."""
    return body.get("is_ext_shared_channel") is True


def extract_thread_ts(body: Payload) -> str | None:
    event = body.get("event")
    if isinstance(event, dict):
        return event.get("thread_ts")
    return None


# --- what -----------------------------------------------------------------------------


def extract_command_text(body: Payload) -> str:
    """A slash command's text; `/pm` alone means help."""
    return clean_text(body.get("text") or "") or "help"


def extract_event_text(body: Payload, bot_user_id: str | None) -> str:
    """An app_mention or DM: the bot's mention dropped, markup made plain."""
    event = body.get("event") or {}
    return clean_text(strip_bot_mention(event.get("text") or "", bot_user_id)) or "help"


def extract_event_id(body: Payload) -> str | None:
    """Slack's id of this delivery, so retries are dropped by the engine: the envelope's
    `event_id`, or for slash commands and interactions their one-off `trigger_id`."""
    if body.get("event_id"):
        return str(body["event_id"])
    if body.get("trigger_id"):
        kind = body.get("type") or "command"
        return f"{kind}:{body['trigger_id']}"
    return None


def extract_action(body: Payload) -> Action | None:
    """The first action of a `block_actions` payload as an engine action."""
    actions = body.get("actions") or []
    if not actions:
        return None
    action = actions[0]
    action_id = str(action.get("action_id", "")).split(SEPARATOR, 1)[0]
    value = action.get("value")
    if value is None and isinstance(action.get("selected_option"), dict):
        value = action["selected_option"].get("value")
    return Action(action_id=action_id, value=str(value or ""))


def is_form_button(action: Action) -> bool:
    return action.action_id == FORM_ACTION


def form_spec(action: Action) -> dict[str, Any]:
    """The neutral Form a form button carries (see render.py); empty if unreadable."""
    try:
        spec = json.loads(action.value)
    except ValueError:
        spec = None
    if not isinstance(spec, dict) or not isinstance(spec.get("f"), list) or "a" not in spec:
        return {"a": "help", "v": "", "f": []}
    return spec


def extract_form_fields(view: Payload) -> dict[str, str]:
    """A submitted modal's inputs by block id (= the neutral field id)."""
    values = ((view.get("state") or {}).get("values")) or {}
    fields: dict[str, str] = {}
    for block_id, inputs in values.items():
        for element in inputs.values():
            value = _element_value(element)
            if value is not None:
                fields[block_id] = value
    return fields


def _element_value(element: Payload) -> str | None:
    kind = element.get("type")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "datepicker":
        return element.get("selected_date")
    if kind in ("static_select", "radio_buttons"):
        option = element.get("selected_option") or {}
        return option.get("value")
    return element.get("value")


def extract_metadata(view: Payload) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def extract_shortcut_text(body: Payload) -> str:
    """The text of the message a shortcut was used on, readable (mentions as @name)."""
    message = body.get("message") or {}
    return clean_text(message.get("text") or "", keep_mentions=False)
