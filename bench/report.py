"""The machine, the tables (medians of the rounds, each round shown beside them, ratios to
the baselines) and docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.latency import Case, LatencyRun


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = "unknown"
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
    }


def cpu_times() -> tuple[int, int]:
    """(stolen, all) CPU time of the whole machine so far, in clock ticks (/proc/stat)."""
    for line in _read("/proc/stat").splitlines():
        if line.startswith("cpu "):
            # user, nice, system, idle, iowait, irq, softirq, steal (then guest time,
            # which is already counted in user and nice)
            ticks = [int(value) for value in line.split()[1:9]]
            stolen = ticks[7] if len(ticks) > 7 else 0
            return stolen, sum(ticks)
    return 0, 0


def stolen_share(before: tuple[int, int], after: tuple[int, int]) -> str:
    """The share of the machine's CPU time its host gave to others meanwhile (a virtual
    machine's steal time): what made a run slower than the code it measured."""
    stolen, total = after[0] - before[0], after[1] - before[1]
    return f"{100 * stolen / total:.1f}%" if total > 0 else "unknown"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def median(values: Iterable[float]) -> float:
    found = [v for v in values if v == v]  # drop NaN
    return statistics.median(found) if found else float("nan")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _runs(values: Iterable[float], digits: int = 0) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base and base == base and value == value else "-"


def latency_tables(run: LatencyRun) -> str:
    by_name = {case.name: case for case in run.cases}
    floor = by_name["bare aiohttp (200)"]
    bolt = by_name["bare Bolt (ack)"]
    floor_rps = median(r.per_second for r in floor.saturation)
    bolt_rps = median(r.per_second for r in bolt.saturation)
    floor_p99 = median(r.percentile(99) for r in floor.steady)
    bolt_p99 = median(r.percentile(99) for r in bolt.steady)
    saturation = table(
        ["case", "req/s (median)", "rounds", "vs aiohttp", "vs Bolt", "errors"],
        (_saturation_row(c, floor_rps, bolt_rps) for c in run.cases),
    )
    steady = table(
        [
            "case",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "p99 rounds",
            "p99 vs aiohttp",
            "p99 vs Bolt",
            "errors",
        ],
        (_steady_row(c, floor_p99, bolt_p99) for c in run.cases),
    )
    memory = table(
        ["process", "peak RSS (MiB)", "its child processes (MiB, peaks added)"],
        (
            (label, f"{mb:.0f}", f"{run.children_rss_mb.get(label, 0.0):.0f}")
            for label, mb in run.peak_rss_mb.items()
        ),
    )
    return (
        "### Saturation: 32 concurrent clients, fixed request count\n\n"
        f"{saturation}\n\n"
        "### Steady offered load: 100 requests/s, open loop, latency from the scheduled "
        "send time\n\n"
        f"{steady}\n\n"
        "### Peak resident memory of each serving process (VmHWM)\n\n"
        "A `liaison serve` starts a drawing process for its charts (through a forkserver): "
        "their peaks are shown beside the serving process's, not held to its target.\n\n"
        f"{memory}\n"
    )


def _saturation_row(case: Case, floor: float, bolt: float) -> list[str]:
    rates = [r.per_second for r in case.saturation]
    value = median(rates)
    errors = sum(r.errors for r in case.saturation)
    return [case.name, f"{value:.0f}", _runs(rates), _ratio(value, floor), _ratio(value, bolt),
            str(errors)]  # fmt: skip


def _steady_row(case: Case, floor_p99: float, bolt_p99: float) -> list[str]:
    p99s = [r.percentile(99) for r in case.steady]
    p99 = median(p99s)
    return [
        case.name,
        f"{median(r.percentile(50) for r in case.steady):.1f}",
        f"{median(r.percentile(95) for r in case.steady):.1f}",
        f"{p99:.1f}",
        _runs(p99s, 1),
        _ratio(p99, floor_p99),
        _ratio(p99, bolt_p99),
        str(sum(r.errors for r in case.steady)),
    ]


def latency_verdicts(run: LatencyRun) -> list[str]:
    by_name = {case.name: case for case in run.cases}
    bolt_rps = median(r.per_second for r in by_name["bare Bolt (ack)"].saturation)
    verdicts = []
    for case in run.cases:
        if case.uncached_floor is not None:
            rps = median(r.per_second for r in case.saturation)
            verdicts.append(
                verdict(
                    f"{case.name}: saturated {rps:.0f} req/s >= {case.uncached_floor:.0f}",
                    rps >= case.uncached_floor,
                )
            )
            continue
        if case.baseline:
            continue
        p99 = median(r.percentile(99) for r in case.steady)
        verdicts.append(verdict(f"{case.name}: p99 at 100 req/s {p99:.1f} ms < 50 ms", p99 < 50))
        if case.name.endswith("/pm status"):
            rps = median(r.per_second for r in case.saturation)
            verdicts.append(
                verdict(
                    f"{case.name}: saturated {rps:.0f} req/s >= half of bare Bolt "
                    f"({bolt_rps / 2:.0f})",
                    rps >= bolt_rps / 2,
                )
            )
    for label, mb in run.peak_rss_mb.items():
        if label not in ("aiohttp", "bolt"):  # and the uncached reference servers too
            verdicts.append(
                verdict(f"liaison serve on {label}: peak RSS {mb:.0f} MiB < 200", mb < 200)
            )
    return verdicts


def verdict(text: str, ok: bool) -> str:
    """A target's line in the summary: met or MISSED."""
    return f"- {'met' if ok else 'MISSED'}: {text}"


def document(
    *,
    machine_info: dict[str, str],
    versions: dict[str, str],
    sections: list[tuple[str, str]],
    verdicts: list[str],
    settings: str,
    seconds: float,
) -> str:
    rows = [*machine_info.items(), *((f"{k} (server)", v) for k, v in versions.items())]
    parts = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (code under `bench/`). Every figure is the median of "
        "several rounds run side by side and interleaved in one run; each round's value is "
        "shown beside it. These are measurements on a shared, noisy machine: compare the "
        "ratios to the baselines measured in the same run, not absolute numbers across runs.",
        "",
        f"Run at {datetime.now(UTC).isoformat(timespec='seconds')} in {seconds / 60:.1f} min; "
        f"{settings}.",
        "",
        "## Machine",
        "",
        table(["", ""], rows),
        "",
        "## Targets",
        "",
        *verdicts,
        "",
    ]
    for title, body in sections:
        parts += [f"## {title}", "", body, ""]
    return "\n".join(parts)
