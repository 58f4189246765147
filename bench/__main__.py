"""`python -m bench` (what `make bench` runs): every benchmark, the table, the document.

python -m bench                      # the full run (about 15 minutes on 2 cores)
python -m bench --quick              # a smoke run with small counts (a minute or two)
python -m bench --only fanout,delivery
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

from bench import report
from bench.databases import server_versions
from bench.delivery import run_delivery
from bench.fanout import run_fanout
from bench.latency import UNCACHED_FLOOR, LatencyRun, Loads, open_world, run_latency
from bench.mixed import run_mixed
from bench.parsing import run_parsing

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("latency", "mixed", "fanout", "delivery", "parsing")


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="repeats of each measurement")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    return parser.parse_args(argv)


def _progress(started: float) -> Callable[[str], None]:
    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {text}", file=sys.stderr, flush=True)

    return say


async def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    parts = set(options.only.split(","))
    started = time.monotonic()
    cpu_before = report.cpu_times()
    progress = _progress(started)
    loads = (
        Loads(
            baseline_requests=400, liaison_requests=100, uncached_requests=100, seconds=2, warmup=20
        )
        if options.quick
        else Loads()
    )
    sections: list[tuple[str, str]] = []
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="liaison-bench-") as tmp:
        workdir = Path(tmp)
        if "latency" in parts:
            async with AsyncExitStack() as stack:
                api, receiver, urls = await open_world(stack, workdir, "latency")
                run = await run_latency(
                    api,
                    receiver,
                    urls,
                    workdir,
                    rounds=options.rounds,
                    loads=loads,
                    progress=progress,
                )
            sections.append(("1 and 4. Command latency over HTTP, and memory", _latency_notes(run)))
            verdicts += report.latency_verdicts(run)
        for part in ("mixed", "fanout", "delivery", "parsing"):
            if part in parts:
                title, body, found = await _part(part, workdir, options, progress)
                sections.append((title, body))
                verdicts += found
    elapsed = time.monotonic() - started
    text = report.document(
        machine_info={
            **report.machine(),
            "CPU time taken by the host (steal)": report.stolen_share(
                cpu_before, report.cpu_times()
            ),
        },
        versions=await server_versions(),
        sections=sections,
        verdicts=verdicts,
        settings=f"{options.rounds} rounds{', quick counts' if options.quick else ''}",
        seconds=elapsed,
    )
    print(text)
    Path(options.out).parent.mkdir(parents=True, exist_ok=True)
    Path(options.out).write_text(text)
    progress(f"wrote {options.out}")
    return 0


def _latency_notes(run: LatencyRun) -> str:
    loads = run.loads
    seeded = "; ".join(
        f"{label}: " + ", ".join(f"{n} {what}" for what, n in counts.items())
        for label, counts in run.seeded.items()
    )
    return (
        "Each server is a separate process on 127.0.0.1; the load generator (Python, aiohttp "
        "client, the same process that receives `response_url` posts) shares the machine's "
        "cores with it, so the bare aiohttp figure is the floor of client + server together. "
        "Every request is a correctly signed slash command body exactly as Slack sends it; a "
        "command is done when its reply is available (in the acknowledgement or posted to "
        "its `response_url`). The bare servers answer the same signed body. "
        f"Saturation: {loads.clients} clients, {loads.baseline_requests} requests to a "
        f"bare server and to `/pm status`, {loads.liaison_requests} to `/pm task add` (each "
        f"adds a task to the seeded project), {loads.uncached_requests} to each uncached read; "
        f"steady load: {loads.rate:.0f} "
        f"requests a second for {loads.seconds:.0f} s; {loads.warmup} warm-up requests per "
        f"case first. Seeded project rows: {seeded}.\n\n"
        "`/pm status` is the same person's in the same channel each time: Liaison answers a "
        "repeat from its reply cache (bot/engine/reply_cache.py) until a write to the project "
        "touches a table the status read. Every round's `/pm task add` case writes one, so "
        "the first requests after one compute afresh (a burst of identical ones computes "
        "once). The uncached reads "
        "(`status`, `tasks`, `budget`, `risks` of the seeded project) go to a second "
        "`liaison serve` on the same database with `LIAISON_REPLY_CACHE=off`: what computing "
        f"each afresh costs, held to {UNCACHED_FLOOR:.0f} requests/s saturated (the budget's "
        "chart is drawn once per change of its figures as drawn, amounts to a 250th of the "
        "highest, with or without the cache).\n\n"
        + report.latency_tables(run)
    )


async def _part(
    part: str, workdir: Path, options: argparse.Namespace, progress: Callable[[str], None]
) -> tuple[str, str, list[str]]:
    """The mixed workload, fan-out, delivery and parsing, each with its own servers or none."""
    run = {
        "mixed": run_mixed,
        "fanout": run_fanout,
        "delivery": run_delivery,
        "parsing": run_parsing,
    }[part]
    return await run(workdir, rounds=options.rounds, quick=options.quick, progress=progress)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
