"""Drawing charts as PNG with matplotlib's Agg renderer (no display, no pyplot state), from
their series or from the JSON values a `Chart` block carries (`bot.views.charts` makes both)."""

from __future__ import annotations

import asyncio
import io
import json
import multiprocessing
import multiprocessing.connection
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from bot.domain.budget import CENT
from bot.messages import Block, Chart, Image, Message, Reply

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

MilestoneState = Literal["done", "overdue", "upcoming"]
COLOURS = {"done": "#2e7d32", "overdue": "#c62828", "upcoming": "#1565c0"}


@dataclass(frozen=True, slots=True)
class Point:
    day: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class BurnUp:
    currency: str
    actual: tuple[Point, ...]  # cumulative spend at the end of each day with spend
    budget_line: tuple[Point, ...]  # flat at the budget; empty without one
    forecast: tuple[Point, ...]  # today's spend to the spend expected by the due date
    run_out: date | None  # when the money runs out at today's average burn
    due: date | None
    today: date


@dataclass(frozen=True, slots=True)
class MilestoneMark:
    title: str
    due: date
    state: MilestoneState
    client: bool


# --- drawing -----------------------------------------------------------------------------


def _figure(width: float, height: float, left: float | None = None) -> tuple[Figure, Axes]:
    """A figure and its axes. With `left` (inches), the margins are fixed: no layout
    engine measures every label, a third of a drawing's time (the burn-up is drawn anew
    after every change to a project's spend); else they fit the labels."""
    from matplotlib.figure import Figure

    if left is None:
        figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
        return figure, figure.add_subplot()
    figure = Figure(figsize=(width, height), dpi=100)
    _fixed_margins(figure, left)
    return figure, figure.add_subplot()


def _fixed_margins(figure: Figure, left: float) -> None:
    width, height = figure.get_size_inches()
    figure.subplots_adjust(
        left=left / width, right=1 - 0.2 / width, bottom=0.4 / height, top=1 - 0.35 / height
    )


# One figure per kind drawn often, kept by the drawing process and cleared of the last
# chart's data for the next: a new figure and its axes, and their ticks made at the first
# draw, were a third of each burn-up (the picture is the same; tests/views/test_charts.py).
_KEPT_FIGURES: dict[str, tuple[Figure, Axes]] = {}


def _kept_figure(kind: str, width: float, height: float, left: float) -> tuple[Figure, Axes]:
    """The figure kept for `kind`, with fixed margins and nothing drawn on it."""
    kept = _KEPT_FIGURES.get(kind)
    if kept is None:
        kept = _KEPT_FIGURES[kind] = _figure(width, height, left)
        return kept
    figure, axes = kept
    _fixed_margins(figure, left)
    for artist in [*axes.lines, *axes.texts, *axes.collections, *axes.patches, *axes.images]:
        artist.remove()
    if axes.legend_ is not None:
        axes.legend_.remove()
    axes.relim()  # no data: the limits come from what is drawn next
    axes.set_autoscale_on(True)  # a fixed limit (set_ylim(bottom=0)) fixes both ends
    for loc in ("left", "center", "right"):
        axes.set_title("", loc=loc)
    axes.set_xlabel("")
    axes.set_ylabel("")
    return kept


def forget_kept_figures() -> None:
    """Draw the next charts on new figures (tests compare the two)."""
    _KEPT_FIGURES.clear()
    _KEPT_BACKGROUNDS.clear()


# What lies under a chart's data, kept as pixels under what it was drawn from: the kind,
# the axes' place, limits and names, and the frame's texts. A burn-up asked for after a
# change to its project's spend usually has the same axes (its limits come from the
# budget and the due date): their tick labels and its title, measured and rendered, were
# most of its drawing time. One is kept for each of the projects asked about lately, the
# latest used last: a busy workspace's projects take turns (50 of them, bench/: with 16
# kept, most drawings drew their background again). Kept compressed: 700 x 360 pixels of
# RGBA are 1 MB, mostly white, about 25 KB with zlib's fastest level (2 ms to compress,
# 1.4 ms to restore, against ~10 ms to draw).
_KEPT_BACKGROUNDS: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
KEPT_BACKGROUNDS = 256
# Texts kept with the background: above the axes and their grid (1.5, axes.axisbelow's
# "line"), below the data (lines, 2), so a whole drawing draws them in the same order.
FRAME_ZORDER = 1.9


def _png_over_kept_background(
    kind: str, figure: Figure, axes: Axes, frame: Sequence[Text] = ()
) -> bytes:
    """The figure as `_png` draws it, but the part below the data (the figure and axes
    backgrounds and the two axes: ticks, tick labels, axis names and grid; and the
    `frame`, texts that name the chart and not its figures, at FRAME_ZORDER) is drawn
    only when what it shows changed; everything else is drawn over it in the order a
    whole drawing draws it (the axes and the frame lie below the lines), so the picture
    is the same."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
    if any(text.get_zorder() != FRAME_ZORDER for text in frame):
        raise ValueError("a frame text must lie below the data (FRAME_ZORDER)")
    # Only these are kept, so nothing a chart draws of its data can be kept by mistake.
    below = (axes.patch, axes.xaxis, axes.yaxis, *frame)
    above = [artist for artist in axes.get_children() if artist not in below]
    above.sort(key=lambda artist: artist.get_zorder())  # stable: as Axes.draw sorts them
    shows = (
        kind,
        tuple(figure.bbox.bounds),  # the pixels kept: as many as the canvas has
        tuple(axes.get_position().bounds),
        axes.get_xlim(),
        axes.get_ylim(),
        axes.xaxis.get_label_text(),
        axes.yaxis.get_label_text(),
        *(_what_text_shows(text) for text in frame),
    )
    kept = _KEPT_BACKGROUNDS.get(shows)
    for artist in above:
        artist.set_animated(True)  # left out of canvas.draw()
    try:
        if kept is not None:
            _KEPT_BACKGROUNDS.move_to_end(shows)
            _pixels(canvas)[:] = zlib.decompress(kept)
        else:
            canvas.draw()
            _KEPT_BACKGROUNDS[shows] = zlib.compress(_pixels(canvas), 1)
            if len(_KEPT_BACKGROUNDS) > KEPT_BACKGROUNDS:
                _KEPT_BACKGROUNDS.popitem(last=False)
        for artist in above:
            if artist.get_visible():
                axes.draw_artist(artist)
    finally:
        for artist in above:
            artist.set_animated(False)
    return _encode_png(canvas)


def _pixels(canvas: Any) -> memoryview:
    """The canvas's RGBA pixels as bytes, to read and to write (its renderer's buffer:
    the one the figure is drawn on, sized for it)."""
    return canvas.get_renderer().buffer_rgba().cast("B")  # type: ignore[no-any-return]


def _what_text_shows(text: Text) -> tuple[Any, ...]:
    # Where it stands in its coordinates: a kind places each of its frame texts alike.
    return (
        text.get_text(),
        text.get_position(),
        text.get_color(),
        text.get_fontsize(),
        text.get_horizontalalignment(),
        text.get_verticalalignment(),
    )


def _amount_margin(top: float) -> float:
    """Inches left of the axes for the axis name and the widest amount ("1,250,000")."""
    return 0.45 + 0.085 * len(f"{top:,.0f}")


def _round_top(highest: float) -> float:
    """The amount axis's top: a round number above the highest amount and a margin. A
    little more spend then draws on the same axes (and over their kept background,
    `_png_over_kept_background`) instead of moving the top by a few units each time."""
    from matplotlib import rc_context
    from matplotlib.ticker import AutoLocator

    with rc_context({"axes.autolimit_mode": "round_numbers"}):
        return float(AutoLocator().view_limits(0.0, max(highest, 1.0) * 1.05)[1])


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return _encode_png(canvas)


def _encode_png(canvas: Any) -> bytes:
    """What the canvas holds, as FigureCanvasAgg.print_png saves it after drawing."""
    from matplotlib.image import imsave

    buffer = io.BytesIO()
    # zlib's fastest level: a tenth of a drawing saved for a file about a tenth larger.
    imsave(
        buffer,
        canvas.buffer_rgba(),
        format="png",
        origin="upper",
        dpi=canvas.figure.dpi,
        pil_kwargs={"compress_level": 1},
    )
    return buffer.getvalue()


def _date_axis(axes: Axes) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def draw_burn_up(series: BurnUp, title: str) -> bytes:
    figure, frame = _burn_up(series, title)
    return _png_over_kept_background("burn-up", figure, figure.axes[0], frame)


def burn_up_figure(series: BurnUp, title: str) -> Figure:
    return _burn_up(series, title)[0]


BURN_UP_HEIGHT = 3.6  # inches


def _burn_up(series: BurnUp, title: str) -> tuple[Figure, list[Text]]:
    """The burn-up's figure and its frame: the title and the names of the lines, which
    change with the project and not with its spend (see _png_over_kept_background)."""
    from matplotlib.ticker import StrMethodFormatter

    amounts = [float(p.amount) for line in (series.actual, series.budget_line, series.forecast)
               for p in line]  # fmt: skip
    top = _round_top(max(amounts, default=0.0))
    figure, axes = _kept_figure("burn-up", 7, BURN_UP_HEIGHT, left=_amount_margin(top))
    days = [p.day for p in series.actual]
    key = [("\u2014 Spent", "#1565c0")]
    axes.plot(
        days,
        [float(p.amount) for p in series.actual],
        drawstyle="steps-post",
        color="#1565c0",
        linewidth=2,
    )
    if series.budget_line:
        key.append(("- - Budget", "#c62828"))
        axes.plot(
            [p.day for p in series.budget_line],
            [float(p.amount) for p in series.budget_line],
            color="#c62828",
            linestyle="--",
        )
    if series.forecast:
        key.append(("\u00b7\u00b7\u00b7 Forecast to due date", "#ef6c00"))
        axes.plot(
            [p.day for p in series.forecast],
            [float(p.amount) for p in series.forecast],
            color="#ef6c00",
            linestyle=":",
            linewidth=2,
        )
    if series.due is not None:
        axes.axvline(series.due, color="#555555", linewidth=1)
        axes.annotate(
            "due",
            (series.due, 0),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=8,
            color="#555555",
        )
    if series.run_out is not None and series.budget_line:
        key.append((f"\u25cf Runs out {series.run_out.isoformat()}", "#c62828"))
        axes.plot(
            [series.run_out],
            [float(series.budget_line[0].amount)],
            marker="o",
            color="#c62828",
        )
    # y given: the title is not moved clear of the tick labels by measuring them all (a
    # fifth of a drawing's time); the fixed margins leave it room above the axes.
    heading = axes.set_title(title, fontsize=11, loc="left", y=1.0, zorder=FRAME_ZORDER)
    axes.set_ylabel(series.currency)
    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.set_ylim(0, top)
    axes.grid(alpha=0.3)
    names = _name_lines(axes, key)
    _date_axis(axes)
    # The run-out date moves with the spend: it is drawn with the data, not kept.
    steady = [text for text, (name, _) in zip(names, key, strict=True) if "Runs out" not in name]
    return figure, [heading, *steady]


def _name_lines(axes: Axes, entries: Sequence[tuple[str, str]]) -> list[Text]:
    """What each line is, top left, each name in its line's colour and drawn like it:
    a legend lays out a box of swatches, a quarter of a burn-up's drawing time, and the
    burn-up is drawn anew after every change to a project's spend. The names lie below
    the lines (FRAME_ZORDER), so that those that do not change are kept with the axes."""
    return [
        axes.text(
            0.01,
            0.92 - 0.065 * row,  # below a budget line at the top
            name,
            transform=axes.transAxes,
            fontsize=8,
            color=colour,
            verticalalignment="top",
            zorder=FRAME_ZORDER,
        )
        for row, (name, colour) in enumerate(entries)
    ]


def draw_timeline(
    marks: Sequence[MilestoneMark], today: date, project_due: date | None, title: str
) -> bytes:
    height = 1.4 + 0.35 * max(1, len(marks))
    figure, axes = _figure(7, min(height, 8))
    for row, mark in enumerate(marks):
        axes.plot(
            [mark.due],
            [row],
            marker="D" if mark.client else "o",
            markersize=9,
            color=COLOURS[mark.state],
            linestyle="none",
        )
        axes.annotate(
            mark.title[:40], (mark.due, row), xytext=(8, -3), textcoords="offset points", fontsize=8
        )
    axes.axvline(today, color="#555555", linewidth=1, linestyle="--")
    axes.annotate("today", (today, -0.6), fontsize=8, color="#555555", ha="center")
    if project_due is not None:
        axes.axvline(project_due, color="#c62828", linewidth=1)
    edges = [m.due for m in marks] + [today] + ([project_due] if project_due else [])
    axes.set_xlim(min(edges) - timedelta(days=3), max(edges) + timedelta(days=10))
    axes.set_ylim(len(marks) - 0.4 if marks else 0.6, -1)
    axes.set_yticks([])
    legend = "green: done   red: overdue   blue: upcoming   diamond: client signs off"
    axes.set_xlabel(legend, fontsize=8, color="#555555")
    axes.set_title(title, fontsize=11, loc="left")
    axes.grid(axis="x", alpha=0.3)
    _date_axis(axes)
    return _png(figure)


# --- a chart's series as JSON values, and back -------------------------------------------


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _points(points: Sequence[Point], step: Decimal) -> list[list[str]]:
    return [[p.day.isoformat(), str(_to_step(p.amount, step))] for p in points]


# What a burn-up can show of an amount. Its plot is 285 pixels tall (BURN_UP_HEIGHT at
# 100 dpi, less the fixed margins) and its top lies above 1.05 times the highest amount
# (_round_top): a 250th of the highest amount is at most 1.1 pixels of it.
AMOUNT_STEPS = 250


def amount_step(highest: Decimal) -> Decimal:
    """The step a burn-up's amounts are drawn to: 1, 2 or 5 times a power of ten, at most
    a 250th of the highest amount and at least a cent. Rounded to it, a line lies within
    about half a pixel of where the exact amount puts it, and the chart (drawn, kept and
    uploaded by its data: `chart_key`) is drawn and uploaded again when a line moves that
    much, not at every hour logged: on a budget of 900,000 a spend of a few hundred moves
    nothing one could see. A step of a round size stays the same while the highest
    amount grows. The reply's text gives the figures to the cent."""
    finest = highest / AMOUNT_STEPS
    if finest <= CENT:
        return CENT
    power = finest.adjusted()  # the exponent of its leading digit
    return next(step for step in (Decimal(m).scaleb(power) for m in (5, 2, 1)) if step <= finest)


def _to_step(amount: Decimal, step: Decimal) -> Decimal:
    return ((amount / step).to_integral_value() * step).quantize(CENT)


def _from_points(rows: Sequence[Sequence[str]]) -> tuple[Point, ...]:
    return tuple(Point(date.fromisoformat(day), Decimal(amount)) for day, amount in rows)


def burn_up_data(series: BurnUp, title: str) -> dict[str, Any]:
    lines = (series.actual, series.budget_line, series.forecast)
    step = amount_step(max((p.amount for line in lines for p in line), default=Decimal(0)))
    return {
        "title": title,
        "currency": series.currency,
        "actual": _points(series.actual, step),
        "budget_line": _points(series.budget_line, step),
        "forecast": _points(series.forecast, step),
        "run_out": _day(series.run_out),
        "due": _day(series.due),
        "today": series.today.isoformat(),
    }


def timeline_data(
    marks: Sequence[MilestoneMark], today: date, project_due: date | None, title: str
) -> dict[str, Any]:
    return {
        "title": title,
        "marks": [[m.title, m.due.isoformat(), m.state, m.client] for m in marks],
        "today": today.isoformat(),
        "due": _day(project_due),
    }


def _draw_burn_up(data: dict[str, Any]) -> bytes:
    series = BurnUp(
        currency=data["currency"],
        actual=_from_points(data["actual"]),
        budget_line=_from_points(data["budget_line"]),
        forecast=_from_points(data["forecast"]),
        run_out=_date(data["run_out"]),
        due=_date(data["due"]),
        today=date.fromisoformat(data["today"]),
    )
    return draw_burn_up(series, data["title"])


def _draw_timeline(data: dict[str, Any]) -> bytes:
    marks = tuple(
        MilestoneMark(title, date.fromisoformat(due), state, client)
        for title, due, state, client in data["marks"]
    )
    return draw_timeline(
        marks, date.fromisoformat(data["today"]), _date(data["due"]), data["title"]
    )


def pulse_data(points: Sequence[tuple[date, float | None]], title: str) -> dict[str, Any]:
    return {"title": title, "points": [[d.isoformat(), a] for d, a in points]}


def _draw_pulse(data: dict[str, Any]) -> bytes:
    """The client satisfaction trend: each pulse's average on a 1-5 scale."""
    figure, axes = _figure(7, 3)
    answered = [(date.fromisoformat(d), a) for d, a in data["points"] if a is not None]
    axes.plot(
        [d for d, _ in answered],
        [a for _, a in answered],
        marker="o",
        color="#1565c0",
        linewidth=2,
    )
    axes.axhline(3, color="#ef6c00", linestyle=":", linewidth=1)
    axes.axhline(2, color="#c62828", linestyle=":", linewidth=1)
    axes.set_ylim(0.5, 5.5)
    axes.set_title(data["title"], fontsize=11, loc="left")
    axes.grid(alpha=0.3)
    _date_axis(axes)
    return _png(figure)


def mood_trend_data(points: Sequence[tuple[date, Decimal]], title: str) -> dict[str, Any]:
    return {"title": title, "points": [[day.isoformat(), str(avg)] for day, avg in points]}


def _draw_mood_trend(data: dict[str, Any]) -> bytes:
    """The team's daily average mood (1-5) over the weeks shown."""
    figure, axes = _figure(7, 3.0)
    days = [date.fromisoformat(day) for day, _ in data["points"]]
    values = [float(avg) for _, avg in data["points"]]
    axes.plot(days, values, marker="o", color="#6a1b9a", linewidth=2)
    axes.set_ylim(1, 5)
    axes.set_ylabel("average mood")
    axes.set_title(data["title"], fontsize=11, loc="left")
    axes.grid(alpha=0.3)
    _date_axis(axes)
    return _png(figure)


DRAWINGS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "burn-up": _draw_burn_up,
    "timeline": _draw_timeline,
    "pulse": _draw_pulse,
    "mood-trend": _draw_mood_trend,
}
# matplotlib is not thread-safe: one drawing at a time, whichever thread draws.
_DRAWING = threading.Lock()
KEPT_DRAWINGS = 512  # about 30 KB each


_Flight = tuple[asyncio.AbstractEventLoop, tuple[str, str]]  # a drawing under way: loop, key


class Drawn:
    """The PNGs drawn lately, each under everything it was drawn from: the kind and the
    chart's data (the project's name and figures as of a day, and only what its audience
    may see). A chart is drawn again only when that changes; an equal key is the same
    picture, so nothing is shared that would not have been drawn the same."""

    def __init__(self, size: int = KEPT_DRAWINGS) -> None:
        self.size = size
        self.drawings = 0  # how many were drawn, rather than found
        self._pngs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._store = threading.Lock()  # the dict, from the event loop and from threads
        # Drawings under way, by event loop (a future belongs to the loop that made it).
        self._flights: dict[_Flight, asyncio.Task[bytes]] = {}

    def png(self, chart: Chart) -> bytes:
        """Drawn here, in this process (tools and tests; requests use `png_elsewhere`)."""
        key = chart_key(chart)
        png = self._found(key)
        if png is None:
            with _DRAWING:
                png = self._keep(key, DRAWINGS[chart.kind](chart.data))
        return png

    async def png_elsewhere(self, chart: Chart) -> bytes:
        """Drawn in the drawing process (see `draw_in_process`), once for everyone who
        asks for the same chart meanwhile: under load drawings queue, and a project's
        budget asked for twice would otherwise wait in that queue twice."""
        key = chart_key(chart)
        png = self._found(key)
        if png is not None:
            return png
        loop = asyncio.get_running_loop()
        flight = self._flights.get((loop, key))
        if flight is None:
            flight = loop.create_task(self._draw_and_keep(key, chart))
            self._flights[loop, key] = flight
            flight.add_done_callback(lambda _: self._flights.pop((loop, key), None))
        # One asker cancelled (a shutdown, a client gone) does not cancel the others'.
        return await asyncio.shield(flight)

    async def _draw_and_keep(self, key: tuple[str, str], chart: Chart) -> bytes:
        return self._keep(key, await draw_in_process(chart.kind, chart.data))

    def _found(self, key: tuple[str, str]) -> bytes | None:
        with self._store:
            png = self._pngs.get(key)
            if png is not None:
                self._pngs.move_to_end(key)
            return png

    def _keep(self, key: tuple[str, str], png: bytes) -> bytes:
        with self._store:
            self.drawings += 1
            self._pngs[key] = png
            if len(self._pngs) > self.size:
                self._pngs.popitem(last=False)
        return png


def chart_key(chart: Chart) -> tuple[str, str]:
    """What a chart's picture is drawn from: its kind and its data."""
    return (chart.kind, json.dumps(chart.data, sort_keys=True))


DRAWN = Drawn()


_prepared = False


def prepare_drawing() -> None:
    """Import matplotlib and load its fonts once, at start-up. The first drawing otherwise
    pays for both (seconds on a busy machine) while a Slack command waits for its 3-second
    acknowledgement; and an import in a worker thread holds module locks the event loop
    may need meanwhile."""
    global _prepared
    with _DRAWING:
        if _prepared:
            return
        today = date(2026, 1, 1)
        spent = (Point(today, Decimal(1)),)
        draw_burn_up(BurnUp("USD", spent, spent, spent, None, today, today), "warm-up")
        draw_timeline((MilestoneMark("warm-up", today, "upcoming", False),), today, None, "")
        _prepared = True


def is_prepared() -> bool:
    """Whether this process has prepared drawing (the drawing process, once started)."""
    return _prepared


def draw(chart: Chart) -> Image:
    return Image(DRAWN.png(chart), chart.alt, chart.name)


async def png_of(chart: Chart) -> bytes:
    """The chart's PNG: one drawn lately from the same data, or drawn now in the drawing
    process."""
    return await DRAWN.png_elsewhere(chart)


async def draw_reply(reply: Reply) -> Reply:
    """The reply with its charts drawn, for an adapter that shows a picture in the message
    itself (Teams, the console, the playground). Commands leave their charts undrawn: Slack
    uploads a picture after the text, and draws it then (adapters.slack.deliver), so its
    answer does not wait for the picture."""
    if not any(isinstance(block, Chart) for m in reply.messages for block in m.blocks):
        return reply
    return replace(reply, messages=tuple([await draw_charts(m) for m in reply.messages]))


async def draw_charts(message: Message) -> Message:
    """The message with each `Chart` drawn into its `Image`, in the drawing process."""
    if not any(isinstance(block, Chart) for block in message.blocks):
        return message
    blocks: list[Block] = []
    for block in message.blocks:
        if isinstance(block, Chart):
            block = Image(await png_of(block), block.alt, block.name)
        blocks.append(block)
    return replace(message, blocks=tuple(blocks))


# --- the drawing process -----------------------------------------------------------------
# A drawing is Python work (matplotlib lays out and renders every artist): 50 ms or more
# of holding the interpreter's lock. Drawn in a thread, it starved the event loop; in a
# process of its own it runs on another core while this one answers everyone else.

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _drawing_process() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # forkserver: a clean process to fork from (never a copy of this one, its
            # threads and its connections), with drawing imported once.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _pool = ProcessPoolExecutor(
                max_workers=1, mp_context=context, initializer=_become_drawing_process
            )
        return _pool


def _forget_drawing_process(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def _become_drawing_process() -> None:
    """In the drawing process, once: answers come before pictures. Under load a drawing
    (tens of milliseconds of CPU) would take a core from the serving process's replies;
    at a lower priority it waits for a core they leave idle."""
    os.nice(DRAWING_NICENESS)
    _exit_with_parent()
    prepare_drawing()


def _exit_with_parent() -> None:
    """End this drawing process when the process it draws for ends, however it ends. A
    pool's worker waits for work on a queue it holds both ends of, so a parent killed
    outright (SIGKILL, the OOM killer) would leave it waiting, and its forkserver, for
    ever: about 120 MB each."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


DRAWING_NICENESS = 10


def _draw_png(kind: str, data: Any) -> bytes:
    """In the drawing process."""
    with _DRAWING:
        return DRAWINGS[kind](data)


async def draw_in_process(kind: str, data: Any) -> bytes:
    """The PNG of a chart, drawn in the drawing process (started at the first drawing, or
    at start-up by `start_drawing_process`); one that died is started again."""
    loop = asyncio.get_running_loop()
    for attempt in range(2):
        pool = _drawing_process()
        try:
            return await loop.run_in_executor(pool, _draw_png, kind, data)
        except BrokenProcessPool:
            _forget_drawing_process(pool)
            if attempt:
                raise
    raise AssertionError("unreachable")


def start_drawing_process() -> None:
    """Start the drawing process and let it load matplotlib and its fonts now, at
    start-up, not while the first command that draws waits for its acknowledgement."""
    _drawing_process().submit(prepare_drawing).result()
