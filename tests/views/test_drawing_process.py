"""Charts of command replies and posts are drawn in a drawing process of their own, so a
drawing never holds the serving process's interpreter; one that dies is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import date

from bot.messages import Chart, Image, Message, Text
from bot.views import drawing
from bot.views.charts import burn_up_chart
from tests.views.test_charts import PNG, START, summary


def _chart(spent: str) -> Chart:
    s, daily = summary("5000", [(date(2026, 11, 10), spent)])
    return burn_up_chart(s, daily, START, "Acme")


def _drawing_pids() -> set[int]:
    pool = drawing._drawing_process()  # noqa: SLF001 - the process this test is about
    return {p.pid for p in pool._processes.values()}  # noqa: SLF001


async def test_a_chart_is_drawn_in_another_process_the_same_as_here() -> None:
    chart = _chart("1500")
    message = Message((Text("Budget"), chart))
    drawn = await drawing.draw_charts(message)
    image = drawn.blocks[1]
    assert isinstance(image, Image) and image.png.startswith(PNG)
    assert image.png == drawing.Drawn().png(chart)  # the same picture as drawn here
    pids = _drawing_pids()
    assert pids and os.getpid() not in pids


async def test_a_drawing_process_that_died_is_replaced() -> None:
    await drawing.draw_in_process(_chart("1").kind, _chart("1").data)
    for pid in _drawing_pids():
        os.kill(pid, signal.SIGKILL)
    chart = _chart("2750")
    png = await drawing.draw_in_process(chart.kind, chart.data)
    assert png.startswith(PNG)
    assert os.getpid() not in _drawing_pids()


DRAWING_PARENT = """
import os, sys
from bot.views import drawing
drawing.start_drawing_process()
pool = drawing._drawing_process()
print(*[p.pid for p in pool._processes.values()], flush=True)
sys.stdin.read()
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_drawing_process_ends_when_its_parent_is_killed() -> None:
    """A `liaison serve` killed outright (SIGKILL, the OOM killer) leaves no drawing
    process, or its forkserver, behind."""
    parent = subprocess.Popen(
        [sys.executable, "-c", DRAWING_PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert parent.stdout is not None
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert workers and all(_alive(pid) for pid in workers)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


async def test_a_chart_asked_for_again_while_it_is_drawn_is_drawn_once() -> None:
    """Under load drawings queue: everyone asking for the same chart meanwhile waits for
    the one drawing, and a cancelled asker does not cancel it for the others."""
    kept = drawing.Drawn()
    chart = _chart("4321")
    first = asyncio.ensure_future(kept.png_elsewhere(chart))
    second = asyncio.ensure_future(kept.png_elsewhere(chart))
    third = asyncio.ensure_future(kept.png_elsewhere(chart))
    await asyncio.sleep(0)
    first.cancel()
    pngs = await asyncio.gather(second, third)
    assert pngs[0] == pngs[1] and pngs[0].startswith(PNG)
    assert kept.drawings == 1
    assert await kept.png_elsewhere(chart) == pngs[0] and kept.drawings == 1
    other = await kept.png_elsewhere(_chart("1234"))
    assert other != pngs[0] and kept.drawings == 2
