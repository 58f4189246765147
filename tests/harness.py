"""Text in, text out: the console adapter driving the real engine on a real database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.console.deliver import ConsoleDeliverer
from adapters.console.session import ConsoleSession, Speaker
from bot.commands import ALL_MODULES
from bot.delivery.workers import deliver_pending
from bot.engine.engine import Engine
from storage.secrets import SecretBox
from tests.processes import TEST_SECRET_KEY


@dataclass
class FixedClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 12, 1, 10, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, moment: str) -> None:
        self.now = datetime.fromisoformat(moment).astimezone(UTC)


@dataclass
class Harness:
    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock
    engine: Engine
    posts: list[str] = field(default_factory=list)
    _consoles: dict[tuple[object, ...], ConsoleSession] = field(default_factory=dict)

    @classmethod
    def create(cls, sessions: async_sessionmaker[AsyncSession]) -> Harness:
        clock = FixedClock()
        # Sealed with the tests' key, as `liaison serve` seals with LIAISON_SECRET_KEY.
        engine = Engine(
            sessions=sessions, modules=ALL_MODULES, clock=clock, secrets=SecretBox(TEST_SECRET_KEY)
        )
        return cls(sessions, clock, engine)

    async def say(
        self,
        who: str,
        line: str,
        *,
        channel: str | None = "team",
        external: bool = False,
        tz: str | None = None,
        locale: str | None = None,
    ) -> str:
        """Run one line as `who` in `channel` (None: a DM); posts elsewhere land in `posts`."""
        key = (who, channel, external, locale)
        console = self._consoles.get(key)
        if console is None:
            console = ConsoleSession(self.engine, Speaker(who, external, tz, locale), channel)
            self._consoles[key] = console
        output = await console.run_line(line)
        await self.deliver()
        return output

    async def deliver(self) -> int:
        deliverer = ConsoleDeliverer(self.posts.append)
        return await deliver_pending(self.sessions, {"console": deliverer}, self.clock())

    def take_posts(self) -> str:
        text = "\n\n".join(self.posts)
        self.posts.clear()
        return text
