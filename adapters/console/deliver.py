"""Delivering outbox rows addressed to console channels and people: printed as text."""

from __future__ import annotations

from collections.abc import Callable

from adapters.console.images import ImageStore
from adapters.console.session import PLATFORM, format_message
from bot.delivery.vocabulary import Sent, Target
from bot.messages import Message


class ConsoleDeliverer:
    platform = PLATFORM

    def __init__(self, write: Callable[[str], object], images: ImageStore | None = None) -> None:
        self.write = write
        self.images = images or ImageStore()
        self.count = 0

    async def deliver(
        self, target: Target, message: Message, *, thread_id: str | None = None
    ) -> Sent:
        self.count += 1
        self._write(f"-> {_where(target)} [{message.audience}]", message)
        return Sent(message_id=f"console-{self.count}")

    async def update(self, target: Target, message: Message, *, message_id: str) -> Sent:
        self._write(f"-> {_where(target)} [{message.audience}] (edited {message_id})", message)
        return Sent(message_id=message_id)

    def _write(self, header: str, message: Message) -> None:
        self.write(f"{header}\n{format_message(message, images=self.images)}")


def _where(target: Target) -> str:
    if target.kind == "dm":
        return f"@{target.channel_id.removeprefix('dm:')}"
    return f"#{target.channel_id}"
