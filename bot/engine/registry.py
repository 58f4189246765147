"""Commands are plain async functions; the decorator only records metadata on them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from bot.engine.context import CommandContext
    from bot.engine.parsing import Args
    from bot.messages import Message, Reply

Handler = Callable[["CommandContext", "Args"], Awaitable["Reply | Message"]]
Turn = Literal["tenant", "project"]

ROLES = ("pm", "member", "client")
ANYONE = frozenset({"anyone"})
TEAM = frozenset({"pm", "member"})
EVERYONE = frozenset(ROLES)
PM = frozenset({"pm"})


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    area: str
    roles: frozenset[str]
    needs_project: bool
    handler: Handler
    hidden: bool = False
    # Changes nothing: runs without taking the tenant's write turn (see Engine).
    reads_only: bool = False
    # Reads only, and its reply depends on the stored data, the request and the day alone,
    # so an identical request may be answered from the engine's reply cache: "project"
    # when it reads only its own project's content, True when it may read any project
    # the asker is on (then a write to any of them makes it compute again).
    cached: bool | Literal["project"] = False
    # Asked with no arguments, its reply is the same for everyone who stands where the
    # asker stands (it never reads who asks): one person's kept reply answers another's
    # (bot.engine.standing). Only for `cached="project"`.
    shared: bool = False
    # Other names for it ("done" for "task done") and questions people ask that it answers:
    # (question, the arguments it runs with); `{project}` in a question is a project's name.
    aliases: tuple[str, ...] = ()
    questions: tuple[tuple[str, str], ...] = ()
    # Writes, and may while the project is closed (reopen, delete, survey, retro).
    on_closed: bool = False
    # Whose turn a write takes (see Engine): "tenant", the whole tenant's (every writer
    # of it waits); "project", its project's only, when what it writes is that project's
    # content alone: writers of other projects go on meanwhile. A write that turns out to
    # reach beyond its project is undone and run again with the tenant's turn.
    turn: Turn = "tenant"

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.name.split())

    def allows(self, role: str | None) -> bool:
        return "anyone" in self.roles or (role is not None and role in self.roles)


def command(
    name: str,
    *,
    usage: str,
    summary: str,
    area: str,
    roles: Iterable[str] = TEAM,
    needs_project: bool = True,
    hidden: bool = False,
    reads_only: bool = False,
    cached: bool | Literal["project"] = False,
    shared: bool = False,
    aliases: Iterable[str] = (),
    questions: Iterable[tuple[str, str]] = (),
    on_closed: bool = False,
    turn: Turn = "tenant",
) -> Callable[[Handler], Handler]:
    """Tag a handler as a command. Routing happens in the Registry, not here."""

    def tag(handler: Handler) -> Handler:
        spec = CommandSpec(
            name=name,
            usage=usage,
            summary=summary,
            area=area,
            roles=frozenset(roles),
            needs_project=needs_project,
            handler=handler,
            hidden=hidden,
            reads_only=reads_only or bool(cached),
            cached=cached,
            shared=shared and cached == "project",
            aliases=tuple(aliases),
            questions=tuple(questions),
            on_closed=on_closed,
            turn=turn,
        )
        specs: list[CommandSpec] = getattr(handler, "__commands__", [])
        handler.__commands__ = [*specs, spec]  # type: ignore[attr-defined]
        return handler

    return tag


class Registry:
    def __init__(self, specs: Iterable[CommandSpec]) -> None:
        self._by_words: dict[tuple[str, ...], CommandSpec] = {}
        for spec in specs:
            if spec.words in self._by_words:
                raise ValueError(f"command {spec.name!r} is registered twice")
            self._by_words[spec.words] = spec
        # Other ways to say a name: aliases, and every `area verb` said verb first.
        self._other_words: dict[tuple[str, ...], CommandSpec] = {}
        for spec in self._by_words.values():
            said = [tuple(a.split()) for a in spec.aliases]
            if len(spec.words) == 2:
                said.append(spec.words[::-1])
            for words in said:
                if words not in self._by_words:
                    self._other_words.setdefault(words, spec)

    @classmethod
    def from_modules(cls, modules: Iterable[ModuleType]) -> Registry:
        specs: list[CommandSpec] = []
        for module in modules:
            for value in vars(module).values():
                specs.extend(getattr(value, "__commands__", []))
        return cls(specs)

    def find(self, words: list[str]) -> tuple[CommandSpec | None, int]:
        """The longest registered name that starts `words`, and how many words it took."""
        lowered = [w.lower() for w in words]
        for names in (self._by_words, self._other_words):
            for length in range(min(3, len(lowered)), 0, -1):
                spec = names.get(tuple(lowered[:length]))
                if spec:
                    return spec, length
        return None, 0

    def group(self, word: str) -> list[CommandSpec]:
        """The commands of one area word (`task`: task add, task done, ..., tasks)."""
        stem = word.lower().removesuffix("s")
        return [s for s in self.all() if s.words[0].removesuffix("s") == stem and not s.hidden]

    def spoken_names(self) -> dict[str, CommandSpec]:
        """Every name a command answers to, its own first: what a near miss is matched to."""
        names = {" ".join(w): s for w, s in self._other_words.items() if not s.hidden}
        names.update({s.name: s for s in self._by_words.values() if not s.hidden})
        return names

    def get(self, name: str) -> CommandSpec | None:
        return self._by_words.get(tuple(name.lower().split()))

    def all(self) -> list[CommandSpec]:
        return sorted(self._by_words.values(), key=lambda s: (s.area, s.name))

    def as_dict(self) -> dict[str, Any]:
        return {s.name: s for s in self.all()}
