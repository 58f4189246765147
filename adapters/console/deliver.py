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
        where = (
            f"@{target.channel_id.removeprefix('dm:')}"
            if target.kind == "dm"
            else f"#{target.channel_id}"
        )
        header = f"-> {where} [{message.audience}]"
        self.write(f"{header}\n{format_message(message, images=self.images)}")
        return Sent(message_id=f"console-{self.count}")
