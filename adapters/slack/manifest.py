"""The Slack app manifest (manifest/slack.yaml) with a deployment's URLs filled in."""

from __future__ import annotations

from pathlib import Path

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "manifest" / "slack.yaml"
PLACEHOLDER_URL = "https://liaison.example.com"
DEFAULT_COMMAND = "/pm"
# What the bot may do; OAuth installs ask for exactly these (a test keeps them equal to
# the manifest's).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:read",
    "chat:write",
    "chat:write.public",
    "commands",
    "files:write",
    "groups:read",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
)


def manifest_text(url: str, *, command: str = DEFAULT_COMMAND, socket_mode: bool = False) -> str:
    """The manifest with every request URL pointing at `url` (e.g. https://bot.example.com)."""
    base = url.strip().rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise ValueError(f"{url!r} is not a URL; give one like https://bot.example.com")
    text = MANIFEST_PATH.read_text(encoding="utf-8").replace(PLACEHOLDER_URL, base)
    if command != DEFAULT_COMMAND:
        if not command.startswith("/") or " " in command:
            raise ValueError(f"{command!r} is not a slash command; give one like /pm")
        text = text.replace(f"command: {DEFAULT_COMMAND}\n", f"command: {command}\n")
    if socket_mode:
        text = text.replace("socket_mode_enabled: false", "socket_mode_enabled: true")
    return text
