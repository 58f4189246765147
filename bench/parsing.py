"""Benchmark 5: reading command lines. Lines a second through the parser (tokens, then the
date in `due:`) on the fast path (ISO dates and our keywords), on the library path (dates
only dateparser reads), and for lines that are no command (a question matched with
rapidfuzz, a near miss offered back). Also the one-time cost of importing dateparser,
which only the first date off the fast path pays. Pure CPU: no database, no HTTP."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench.report import median, table
from bot.commands import ALL_MODULES
from bot.engine.dates import read_date
from bot.engine.parsing import tokenize
from bot.engine.registry import Registry
from bot.engine.understanding import answer_question, near_miss

TODAY = date(2026, 12, 1)
FAST = [
    'task add "Homepage" @bob due:2026-12-24 est:8h',
    'task add "Copy" @cat due:fri',
    "task due 3 due:tomorrow",
    'milestone add "Beta" due:in 3 weeks client',
    'task add "Launch" @bob due:next tuesday',
]
LIBRARY = [
    'task add "Homepage" @bob due:Mar 15 est:8h',
    'task add "Copy" @cat due:15 March',
    "task due 3 due:1st of March",
    'milestone add "Beta" due:december 24th client',
    'task add "Launch" @bob due:Jan 5 2027',
]
NOT_COMMANDS = ["what's overdue?", "how much is left", 'tsk add "Homepage" @bob due:fri', "hello"]


def _read_line(line: str) -> None:
    for token in tokenize(line):
        if token.kind == "option" and token.key == "due":
            read_date(token.value, TODAY)


def _rate(lines: list[str], work: Callable[[str], object], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for line in lines:
            work(line)
        done += len(lines)
    return done / (time.perf_counter() - started)


def _import_seconds() -> float:
    """dateparser's import in a fresh interpreter: what the first library date costs."""
    code = "import time; t = time.perf_counter(); import dateparser; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


async def run_parsing(
    workdir: Path, *, rounds: int, quick: bool, progress: Callable[[str], None]
) -> tuple[str, str, list[str]]:
    seconds = 0.3 if quick else 2.0
    registry = Registry.from_modules(ALL_MODULES)

    def understand(line: str) -> object:
        return answer_question(line, registry) or near_miss(line, registry)

    _read_line(LIBRARY[0]), understand(NOT_COMMANDS[0])  # imports and caches, not measured
    cases = {"fast path (ISO dates, keywords)": FAST, "library path (dateparser)": LIBRARY}
    rates: dict[str, list[float]] = {name: [] for name in [*cases, "not a command (rapidfuzz)"]}
    imports: list[float] = []
    for number in range(rounds):
        progress(f"parsing round {number + 1}/{rounds}")
        for name, lines in cases.items():
            rates[name].append(_rate(lines, _read_line, seconds))
        rates["not a command (rapidfuzz)"].append(_rate(NOT_COMMANDS, understand, seconds))
        imports.append(_import_seconds())
    rows = [
        [name, f"{median(r):,.0f}", " / ".join(f"{v:,.0f}" for v in r)] for name, r in rates.items()
    ]
    body = (
        "One process, one core, no I/O: `tokenize` and the `due:` date of each line "
        f"({len(FAST)} lines a kind, repeated for {seconds:g} s a round). A line whose date "
        "the fast path reads never calls dateparser; the matcher runs only for lines that "
        "are no command as typed.\n\n"
        + table(["lines", "lines/s (median)", "rounds"], rows)
        + f"\n\nImporting dateparser (paid once, by the first date off the fast path): "
        f"{median(imports) * 1000:.0f} ms (rounds: "
        + " / ".join(f"{v * 1000:.0f}" for v in imports)
        + " ms)."
    )
    fast, library = median(rates[next(iter(cases))]), median(rates["library path (dateparser)"])
    verdict = f"- {'met' if fast > library else 'MISSED'}: parser fast path {fast:,.0f} lines/s"
    verdict += f" > library path {library:,.0f} lines/s"
    return "5. Parsing command lines", body, [verdict]
