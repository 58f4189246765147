"""A console conversation: who speaks, where, and the buttons of the last reply.

Lines starting with `:` steer the console itself: `:as NAME [--external]`,
`:in CHANNEL`, `:dm`. `click N` presses button N of the last reply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from adapters.console.images import ImageStore
from bot.engine.engine import Engine
from bot.messages import Actions, Button, Form, Message, Reply, render_text
from bot.requests import Action, Actor, Place, Request
from bot.views.drawing import draw_reply

PLATFORM = "console"
HOME_TENANT = "local"
OTHER_ORG = "other-org"


@dataclass
class Speaker:
    name: str
    external: bool = False
    timezone: str | None = None
    locale: str | None = None

    def actor(self) -> Actor:
        return Actor(
            platform=PLATFORM,
            tenant=OTHER_ORG if self.external else HOME_TENANT,
            user_id=self.name,
            name=self.name,
            timezone=self.timezone,
            external=self.external,
            locale=self.locale,
        )


def place_for(speaker: Speaker, channel: str | None) -> Place:
    if channel:
        name = channel.lstrip("#")
        return Place(PLATFORM, HOME_TENANT, name, "channel", name=name)
    return Place(PLATFORM, HOME_TENANT, f"dm:{speaker.name}", "dm", name=speaker.name)


@dataclass
class ConsoleSession:
    engine: Engine
    speaker: Speaker
    channel: str | None = None
    after_command: Callable[[], object] | None = None
    buttons: list[Button | Form] = field(default_factory=list)
    images: ImageStore = field(default_factory=ImageStore)

    async def run_line(self, line: str) -> str:
        line = line.strip()
        if not line or line.startswith("#"):
            return ""
        if line.startswith(":"):
            return self._steer(line[1:].split())
        if line.lower().startswith("click"):
            return await self._click(line[5:].strip())
        reply = await draw_reply(await self.engine.handle(self._request(text=line)))
        return self._show(reply)

    def _request(self, *, text: str | None = None, action: Action | None = None) -> Request:
        return Request(
            actor=self.speaker.actor(),
            place=place_for(self.speaker, self.channel),
            text=text,
            action=action,
        )

    def _steer(self, words: list[str]) -> str:
        if words[:1] == ["as"] and len(words) >= 2:
            self.speaker = Speaker(words[1], external="--external" in words[2:])
            origin = " from another organisation" if self.speaker.external else ""
            return f"(now speaking as {self.speaker.name}{origin})"
        if words[:1] == ["in"] and len(words) == 2:
            self.channel = words[1].lstrip("#")
            return f"(now in #{self.channel})"
        if words == ["dm"]:
            self.channel = None
            return "(now in a direct message with Liaison)"
        return "(console: use `:as NAME [--external]`, `:in CHANNEL` or `:dm`)"

    async def _click(self, which: str) -> str:
        if not which.isdigit() or not 1 <= int(which) <= len(self.buttons):
            return f"There is no button {which or '?'} on the last reply."
        button = self.buttons[int(which) - 1]
        if isinstance(button, Form):
            return "Answer this form with its typed command (see `help`)."
        reply = await self.engine.handle(
            self._request(action=Action(action_id=button.action_id, value=button.value))
        )
        reply = await draw_reply(reply)
        return self._show(reply)

    def _show(self, reply: Reply) -> str:
        self.buttons = []
        shown = []
        for message in reply.messages:
            first = len(self.buttons) + 1
            shown.append(format_message(message, first_button=first, images=self.images))
            self.buttons.extend(buttons_of(message))
        return "\n\n".join(shown)


def buttons_of(message: Message) -> list[Button | Form]:
    found: list[Button | Form] = []
    for block in message.blocks:
        if isinstance(block, Actions):
            found.extend(block.buttons)
        elif isinstance(block, Form):
            found.append(block)
    return found


def format_message(
    message: Message,
    image_paths: dict[int, str] | None = None,
    first_button: int = 1,
    images: ImageStore | None = None,
) -> str:
    """The reply as text; with `images`, its charts are saved and shown as file paths."""
    if image_paths is None and images is not None:
        image_paths = images.save_all(message)
    text = render_text(message, image_paths=image_paths, first_button=first_button)
    if message.visibility == "ephemeral":
        return "(only you can see this)\n" + text
    return text
