"""help: what Liaison can do, for the asker's role."""

from __future__ import annotations

from itertools import groupby

from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import ANYONE, CommandSpec, command
from bot.messages import Context, Facts, Heading, Message, Text

WHO = {"pm": "PM", "member": "team", "client": "client", "anyone": "anyone"}


@command(
    "help",
    reads_only=True,
    usage="help [command]",
    aliases=("?",),
    questions=(("what can you do", ""), ("how does this work", "")),
    summary="What I can do, or how to use one command",
    area="basics",
    roles=ANYONE,
    needs_project=False,
)
async def help_command(ctx: CommandContext, args: Args) -> Message:
    registry = ctx.request_registry
    words = [t.value for t in args.rest() if t.kind == "word"]
    args.used.update(range(len(args.tokens)))
    if words:
        spec, _ = registry.find(words)
        group = [s for s in registry.group(words[0]) if _shown_to(s, ctx.role)]
        if spec is None and len(words) == 1 and group:
            pairs = tuple((s.usage, s.summary) for s in group)
            return ctx.whisper(Heading(f"{words[0].lower()} commands"), Facts(pairs))
        if spec is None:
            raise ctx.fail(
                f"There is no command `{' '.join(words)[:40]}`. Type `help` for the list."
            )
        who = ", ".join(WHO[r] for r in sorted(spec.roles))
        return ctx.whisper(
            Heading(spec.name), Text(spec.summary), Facts((("Usage", spec.usage), ("Who", who)))
        )
    role = ctx.role
    visible = [s for s in registry.all() if not s.hidden and _shown_to(s, role)]
    blocks: list = [Heading("Liaison: what I can do")]
    for area, specs in groupby(visible, key=lambda s: s.area):
        pairs = tuple((s.usage, s.summary) for s in specs)
        blocks.extend([Heading(area.capitalize()), Facts(pairs)])
    blocks.append(Context("Type `help <command>` for one command. Every button has a typed form."))
    return ctx.whisper(*blocks)


def _shown_to(spec: CommandSpec, role: str | None) -> bool:
    if role == "client":
        return "client" in spec.roles or spec.name == "help"
    return role is None or spec.allows(role)
