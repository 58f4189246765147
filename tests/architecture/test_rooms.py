"""The house rules, read from the code itself: adapters -> bot -> storage, the rooms of
`bot/` import only along the arrows their `__init__.py` docstrings declare, and no import
circle anywhere in bot/, adapters/ or storage/ (counting imports inside functions and
under TYPE_CHECKING, so a circle cannot hide behind either). Each rule has a self-check
that plants a violation in a copy of the tree and sees the rule catch it."""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "adapters", "storage")
FIRST_PARTY = PACKAGES
SHARED = "shared"  # the modules at bot/'s top level: requests, messages, errors, ...
MAX_SHARED_MODULES = 6
# The shared vocabulary imports only itself (and storage's settings default).
SHARED_MAY_IMPORT = {SHARED}
# What the issue fixes whatever a docstring says (the docstrings may only be stricter).
NEVER = {
    "domain": {"engine", "commands", "views", "schedule", "delivery"},
    "engine": {"commands", "schedule"},
    "delivery": {"commands", "schedule", "engine"},
    "views": {"commands", "schedule", "delivery", "engine"},
}
# Pure rules: no database, no network, no files.
DOMAIN_FORBIDDEN = ("storage", "sqlalchemy", "aiohttp", "asyncio", "adapters")
# Read models and message builders write nothing.
VIEWS_FORBIDDEN_IMPORTS = ("storage.upsert", "storage.bulk", "storage.changes")
VIEWS_FORBIDDEN_NAMES = {"insert", "update", "delete"}  # from sqlalchemy
WRITE_CALLS = {"add", "add_all", "commit", "flush", "delete", "merge", "begin"}
MAY_IMPORT = re.compile(r"^May import:\s*(.*?)\.?\s*$", re.MULTILINE)


@dataclass
class Module:
    name: str  # dotted
    path: Path
    tree: ast.Module
    imports: set[str] = field(default_factory=set)  # every first-party module it names
    local_imports: set[str] = field(default_factory=set)  # those inside a function


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _functions(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield node


def _named(node: ast.AST, known: set[str]) -> set[str]:
    """The first-party modules an import statement names (`from a import b` names `a.b`
    when that is a module, else `a`)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name.split(".")[0] in FIRST_PARTY}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module.split(".")[0] not in FIRST_PARTY:
            return set()
        names = set()
        for alias in node.names:
            sub = f"{node.module}.{alias.name}"
            names.add(sub if sub in known else node.module)
        return names
    return set()


def load(root: Path) -> dict[str, Module]:
    paths = [
        p
        for package in PACKAGES
        for p in sorted((root / package).rglob("*.py"))
        if "migrations" not in p.parts
    ]
    modules = {
        module_name(root, p): Module(module_name(root, p), p, ast.parse(p.read_text()))
        for p in paths
    }
    known = set(modules)
    for module in modules.values():
        for node in ast.walk(module.tree):
            module.imports |= _named(node, known)
        for function in _functions(module.tree):
            for node in ast.walk(function):
                module.local_imports |= _named(node, known)
        module.imports.discard(module.name)
    return modules


def room_of(name: str, root: Path = ROOT) -> str | None:
    """bot.views.charts -> views; bot.messages -> shared; adapters.x -> None."""
    parts = name.split(".")
    if parts[0] != "bot":
        return None
    if len(parts) == 1 or not (root / "bot" / parts[1]).is_dir():
        return SHARED
    return parts[1]


def declared_arrows(root: Path) -> dict[str, set[str]]:
    """Each room's `May import:` line from its docstring: the room names it mentions (the
    shared vocabulary and the room itself always)."""
    arrows = {SHARED: set(SHARED_MAY_IMPORT)}
    rooms = {p.parent.name for p in (root / "bot").glob("*/__init__.py")}
    for init in sorted((root / "bot").glob("*/__init__.py")):
        room = init.parent.name
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        found = MAY_IMPORT.search(doc)
        assert found, f"bot/{room}/__init__.py: its docstring says no 'May import: ...' line"
        allowed = set(re.findall(r"[a-z]+", found.group(1))) & rooms
        arrows[room] = allowed | {room, SHARED}
    return arrows


def arrow_violations(root: Path) -> list[str]:
    modules = load(root)
    arrows = declared_arrows(root)
    problems = []
    for module in modules.values():
        room = room_of(module.name, root)
        if room is None:
            continue
        for target in sorted(module.imports):
            to = room_of(target, root)
            if target.startswith("adapters"):
                problems.append(f"{module.name} imports {target}: bot/ imports no adapter")
            elif to is None:
                continue  # storage: the layer below every room (domain: see purity)
            elif to not in arrows.get(room, set()):
                problems.append(f"{module.name} imports {target}: {room} may not import {to}")
            elif to in NEVER.get(room, set()):
                problems.append(f"{module.name} imports {target}: {room} never imports {to}")
    for name in sorted(modules):
        if name.startswith("storage") and any(
            t.split(".")[0] in ("bot", "adapters") for t in modules[name].imports
        ):
            problems.append(f"{name} imports bot/adapters: storage is the bottom layer")
    return problems


def local_import_violations(root: Path) -> list[str]:
    """bot/ imports its own modules at the top: a function-local import is how a circle
    hides, so it is not allowed."""
    return [
        f"{m.name} imports {sorted(m.local_imports)} inside a function"
        for m in load(root).values()
        if m.name.startswith("bot") and m.local_imports
    ]


def cycles(root: Path) -> list[list[str]]:
    """Every import circle, each as one strongly connected component (Tarjan)."""
    modules = load(root)
    graph = {n: sorted(t for t in m.imports if t in modules) for n, m in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def purity_violations(root: Path) -> list[str]:
    """domain does no I/O; views write nothing."""
    problems = []
    for module in load(root).values():
        room = room_of(module.name, root)
        third_party = _all_imports(module.tree)
        if room == "domain":
            bad = sorted(n for n in third_party if n.startswith(DOMAIN_FORBIDDEN))
            if bad:
                problems.append(f"{module.name} imports {bad}: domain is pure rules, no I/O")
        if room == "views":
            bad = sorted(n for n in third_party if n.startswith(VIEWS_FORBIDDEN_IMPORTS))
            bad += sorted(_sqlalchemy_writes(module.tree))
            bad += sorted(_write_calls(module.tree))
            if bad:
                problems.append(f"{module.name} writes ({bad}): views only read")
    return problems


def _all_imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _sqlalchemy_writes(tree: ast.AST) -> set[str]:
    return {
        f"sqlalchemy.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
        if alias.name in VIEWS_FORBIDDEN_NAMES
    }


def _write_calls(tree: ast.AST) -> set[str]:
    return {
        f".{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WRITE_CALLS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "session"
    }


# ---------------------------------------------------------------- the rules


def test_rooms_import_only_along_their_declared_arrows() -> None:
    assert arrow_violations(ROOT) == []


def test_no_import_circle_in_bot_adapters_or_storage() -> None:
    assert cycles(ROOT) == []


def test_bot_imports_its_own_modules_at_the_top() -> None:
    assert local_import_violations(ROOT) == []


def test_domain_is_pure_and_views_write_nothing() -> None:
    assert purity_violations(ROOT) == []


def test_only_the_shared_vocabulary_sits_at_the_top_of_bot() -> None:
    top = sorted(p.name for p in (ROOT / "bot").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_SHARED_MODULES, top
    for room in sorted(p for p in (ROOT / "bot").iterdir() if (p / "__init__.py").exists()):
        doc = ast.get_docstring(ast.parse((room / "__init__.py").read_text())) or ""
        lines = doc.splitlines()
        assert len(lines) == 2 and MAY_IMPORT.match(lines[1]), (
            f"bot/{room.name}/__init__.py: two lines, what lives here and 'May import: ...'"
        )


def test_bot_never_imports_a_platform_library() -> None:
    forbidden = ("slack_bolt", "slack_sdk", "botbuilder", "aiohttp.web", "adapters")
    for module in load(ROOT).values():
        if room_of(module.name) is None:
            continue
        names = _all_imports(module.tree)
        bad = {n for n in names if n.startswith(forbidden) or n == "aiohttp"}
        assert not bad, f"{module.name} imports {bad}"


# ---------------------------------------------------------------- the self-checks


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    return tmp_path


def _append(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.write_text(path.read_text() + "\n" + text + "\n")


def test_the_copy_starts_clean(tree_copy: Path) -> None:
    assert arrow_violations(tree_copy) == []
    assert cycles(tree_copy) == []
    assert local_import_violations(tree_copy) == []
    assert purity_violations(tree_copy) == []


def test_a_circular_import_is_caught(tree_copy: Path) -> None:
    # domain.health imports domain.budget; this closes the circle inside one room,
    # where every arrow is allowed.
    _append(tree_copy, "bot/domain/budget.py", "from bot.domain import health  # noqa")
    assert any({"bot.domain.budget", "bot.domain.health"} <= set(c) for c in cycles(tree_copy))
    assert arrow_violations(tree_copy) == []


def test_a_circle_hidden_in_a_function_is_caught(tree_copy: Path) -> None:
    _append(
        tree_copy,
        "bot/delivery/outbox.py",
        "def _worker():\n    from bot.delivery import workers\n    return workers",
    )
    assert ["bot.delivery.outbox", "bot.delivery.results", "bot.delivery.workers"] in cycles(
        tree_copy
    )
    assert local_import_violations(tree_copy) == [
        "bot.delivery.outbox imports ['bot.delivery.workers'] inside a function"
    ]


def test_a_forbidden_arrow_is_caught(tree_copy: Path) -> None:
    _append(tree_copy, "bot/views/notices.py", "from bot.engine import parsing  # noqa")
    assert arrow_violations(tree_copy) == [
        "bot.views.notices imports bot.engine.parsing: views may not import engine"
    ]
    assert cycles(tree_copy) == []


def test_a_docstring_cannot_open_an_arrow_the_issue_forbids(tree_copy: Path) -> None:
    init = tree_copy / "bot" / "engine" / "__init__.py"
    first, _ = (ast.get_docstring(ast.parse(init.read_text())) or "").splitlines()
    init.write_text(f'"""{first}\nMay import: domain, delivery, commands."""\n')
    _append(tree_copy, "bot/engine/engine.py", "from bot.commands import help  # noqa")
    assert arrow_violations(tree_copy) == [
        "bot.engine.engine imports bot.commands.help: engine never imports commands"
    ]


def test_io_in_domain_and_writes_in_views_are_caught(tree_copy: Path) -> None:
    _append(tree_copy, "bot/domain/budget.py", "import sqlalchemy  # noqa")
    _append(
        tree_copy, "bot/views/ledger.py", "async def _save(session, row):\n    session.add(row)"
    )
    assert purity_violations(tree_copy) == [
        "bot.domain.budget imports ['sqlalchemy']: domain is pure rules, no I/O",
        "bot.views.ledger writes (['.add()']): views only read",
    ]
