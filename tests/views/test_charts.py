"""Chart series are checked for their values; the PNG only for being a PNG."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.budget import LedgerFigures, summarise
from bot.views.charts import (
    Point,
    budget_image,
    burn_up,
    cumulative_spend,
    deliverable_timeline,
    load_daily_spend,
    milestone_state,
    timeline,
    timeline_image,
)
from tests.harness import Harness

D = Decimal
START = date(2026, 11, 2)
TODAY = date(2026, 11, 21)  # day 20 of the project
DUE = date(2026, 12, 31)
PNG = b"\x89PNG\r\n\x1a\n"


def test_cumulative_spend_adds_up_by_day_and_carries_on_to_today() -> None:
    daily = [
        (date(2026, 11, 5), D("100.00")),
        (date(2026, 11, 3), D("50.50")),
        (date(2026, 11, 5), D("25.25")),  # two sources on one day are one point
    ]
    assert cumulative_spend(daily, START, TODAY) == (
        Point(START, D("0.00")),
        Point(date(2026, 11, 3), D("50.50")),
        Point(date(2026, 11, 5), D("175.75")),
        Point(TODAY, D("175.75")),
    )


def test_spend_before_the_start_counts_on_the_first_day() -> None:
    daily = [(date(2026, 10, 30), D("10.00")), (START, D("5.00"))]
    assert cumulative_spend(daily, START, START) == (Point(START, D("15.00")),)


def test_no_spend_is_a_flat_line_at_zero() -> None:
    assert cumulative_spend([], START, TODAY) == (Point(START, D("0.00")), Point(TODAY, D("0")))


def summary(budget: str | None, spent_on: list[tuple[date, str]], due: date | None = DUE):
    figures = LedgerFigures(
        currency="EUR",
        budget=D(budget) if budget else None,
        start_date=START,
        due_date=due,
        by_category=(("general", sum((D(a) for _, a in spent_on), D("0.00"))),),
    )
    return summarise(figures, TODAY), [(d, D(a)) for d, a in spent_on]


def test_burn_up_forecast_runs_from_todays_spend_to_the_due_date_at_the_average_rate() -> None:
    # 2,000 over 20 days is 100 a day; 40 more days to the due date make 6,000.
    s, daily = summary("5000", [(date(2026, 11, 10), "1500"), (date(2026, 11, 20), "500")])
    series = burn_up(s, daily, START)
    assert series.actual[-1] == Point(TODAY, D("2000.00"))
    assert series.forecast == (Point(TODAY, D("2000.00")), Point(DUE, D("6000.00")))
    # The money (3,000 left at 100 a day) runs out 30 days from today, before the due date.
    assert series.run_out == date(2026, 12, 21)
    assert series.budget_line == (Point(START, D("5000")), Point(DUE, D("5000")))
    assert series.currency == "EUR" and series.due == DUE


def test_burn_up_without_budget_or_due_date_has_no_budget_line_or_forecast() -> None:
    s, daily = summary(None, [(date(2026, 11, 10), "300")], due=None)
    series = burn_up(s, daily, START)
    assert series.budget_line == () and series.forecast == () and series.run_out is None
    assert series.actual[-1].amount == D("300.00")


def test_the_budget_line_reaches_a_run_out_date_after_the_due_date() -> None:
    s, daily = summary("100000", [(date(2026, 11, 10), "2000")])
    series = burn_up(s, daily, START)
    assert series.run_out is not None and series.run_out > DUE
    assert series.budget_line[-1] == Point(series.run_out, D("100000"))


def test_a_due_date_already_past_draws_no_forecast() -> None:
    s, daily = summary("5000", [(date(2026, 11, 10), "100")], due=date(2026, 11, 15))
    assert burn_up(s, daily, START).forecast == ()


@dataclass
class Milestone:
    title: str
    due: date
    done: bool = False
    client_signoff: bool = False


@dataclass
class Deliverable:
    title: str
    due: date
    state: str


def test_timeline_orders_milestones_and_marks_done_overdue_and_upcoming() -> None:
    marks = timeline(
        [
            Milestone("Launch", date(2026, 12, 20), client_signoff=True),
            Milestone("Discovery", date(2026, 11, 5), done=True),
            Milestone("Design", date(2026, 11, 18)),
            Milestone("Beta", TODAY),
        ],
        TODAY,
    )
    assert [(m.title, m.due, m.state, m.client) for m in marks] == [
        ("Discovery", date(2026, 11, 5), "done", False),
        ("Design", date(2026, 11, 18), "overdue", False),
        ("Beta", TODAY, "upcoming", False),  # due today is not late yet
        ("Launch", date(2026, 12, 20), "upcoming", True),
    ]


def test_the_clients_timeline_shows_the_client_views_deliverables_in_its_terms() -> None:
    marks = deliverable_timeline(
        [
            Deliverable("Launch", date(2026, 12, 20), "on track"),
            Deliverable("Design", date(2026, 11, 18), "late"),
            Deliverable("Beta", date(2026, 12, 1), "at risk"),
            Deliverable("Wireframes", date(2026, 11, 10), "awaiting your sign-off"),
            Deliverable("Discovery", date(2026, 11, 5), "signed off"),
        ]
    )
    assert [(m.title, m.state, m.client) for m in marks] == [
        ("Discovery", "done", True),
        ("Wireframes", "done", True),
        ("Design", "overdue", True),
        ("Beta", "upcoming", True),
        ("Launch", "upcoming", True),
    ]


def test_a_milestone_done_late_is_done_not_overdue() -> None:
    assert milestone_state(date(2026, 11, 1), True, TODAY) == "done"
    assert milestone_state(date(2026, 11, 1), False, TODAY) == "overdue"


def test_images_are_pngs_with_alt_text_that_says_what_they_show() -> None:
    s, daily = summary("5000", [(date(2026, 11, 10), "1500")])
    chart = budget_image(s, daily, START, "Acme")
    assert chart.png.startswith(PNG) and chart.name == "budget-burn-up.png"
    assert "forecast to the due date" in chart.alt
    marks = timeline([Milestone("Beta", date(2026, 12, 1), client_signoff=True)], TODAY)
    line = timeline_image(marks, TODAY, DUE, "Acme")
    assert line.png.startswith(PNG)
    assert "Beta 2026-12-01 (upcoming)" in line.alt
    assert timeline_image([], TODAY, None, "Acme").alt.endswith("no milestones")


async def test_daily_spend_sums_expenses_and_time_cost_per_day(bot: Harness) -> None:
    await bot.say("ann", 'project new "Acme" client:"Acme Corp" budget:10k tz:UTC')
    await bot.say("ann", "team add @bob rate:100/h")
    await bot.say("ann", 'spend 1,200.10 "Licences"')
    await bot.say("ann", 'spend 0.20 "Stamps"')
    await bot.say("bob", "log 1.5h")
    bot.clock.advance(days=2)
    await bot.say("ann", 'spend 99.99 "Hosting"')
    async with bot.sessions() as session:
        daily = await load_daily_spend(session, 1)
    totals: dict[date, Decimal] = {}
    for day, amount in daily:
        totals[day] = totals.get(day, D("0")) + amount
    assert totals == {date(2026, 12, 1): D("1350.30"), date(2026, 12, 3): D("99.99")}


async def test_the_console_saves_a_chart_and_prints_its_path(bot: Harness) -> None:
    await bot.say("ann", 'project new "Acme" client:"Acme Corp" budget:10k tz:UTC')
    await bot.say("ann", 'spend 1,200 "Licences"')
    out = await bot.say("ann", "budget")
    assert "(image: Budget burn-up of Acme" in out
    path = Path(out.split(" -> ", 1)[1].split(")", 1)[0])
    assert path.name.endswith("budget-burn-up.png")
    assert path.read_bytes().startswith(PNG)


async def test_reports_carry_charts_and_the_clients_shows_only_its_deliverables(
    bot: Harness,
) -> None:
    await bot.say("ann", 'project new "Acme" client:"Acme Corp" budget:10k due:2027-03-01')
    await bot.say("ann", "project link client", channel="acme-shared")
    await bot.say("ann", 'milestone add "Internal code freeze" due:2027-01-15')
    await bot.say("ann", 'milestone add "Beta" due:2027-02-01 client')
    await bot.say("ann", 'spend 1,200 "Licences"')
    internal = await bot.say("ann", "report internal")
    assert "(image: Budget burn-up of Acme" in internal
    assert (
        "(image: Milestone timeline of Acme: Internal code freeze 2027-01-15 (upcoming)" in internal
    )
    client = await bot.say("carol", "report", channel="acme-shared", external=True)
    images = [line for line in client.splitlines() if line.startswith("(image:")]
    assert len(images) == 1
    assert images[0].startswith("(image: Milestone timeline of Acme: Beta 2027-02-01 (upcoming)")
    assert "code freeze" not in client and "Budget" not in client and "1,200" not in client


def test_the_burn_up_names_each_line_it_draws_in_that_lines_colour() -> None:
    """What each line is, named beside the plot in its colour (and nothing that is not
    drawn): the reader of a picture in Slack or Teams has nothing else to go by."""
    from matplotlib.colors import to_hex

    from bot.views.drawing import burn_up_figure, forget_kept_figures

    full, full_daily = summary("5000", [(date(2026, 11, 10), "1500"), (TODAY, "500")])
    bare, bare_daily = summary(None, [(date(2026, 11, 3), "12")], due=None)
    forget_kept_figures()
    for series, names in (
        (burn_up(full, full_daily, START), ["Spent", "Budget", "Forecast", "Runs out 2026-12-21"]),
        (burn_up(bare, bare_daily, START), ["Spent"]),
    ):
        axes = burn_up_figure(series, "Acme Site: budget").axes[0]
        shown = {text.get_text(): to_hex(text.get_color()) for text in axes.texts}
        named = [name for name in names for text in shown if name in text]
        assert named == names and len(shown) == len(names) + (series.due is not None), shown
        colours = {to_hex(line.get_color()) for line in axes.lines}
        assert all(shown[text] in colours for text in shown if text != "due"), (shown, colours)


def test_the_burn_ups_fixed_margins_fit_its_labels_from_tens_to_billions() -> None:
    """The burn-up is drawn without a layout engine (a third of its time): its margin is
    worked out from the widest amount, and no amount or axis name may be cut off."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from bot.views.drawing import BurnUp, Point, burn_up_figure

    start, due = date(2026, 9, 1), date(2027, 3, 1)
    for top in (40, 90_000, 2_500_000, 7_000_000_000):
        spent = (Point(start, Decimal(0)), Point(date(2026, 11, 30), Decimal(top)))
        budget = (Point(start, Decimal(top)), Point(due, Decimal(top)))
        series = BurnUp("USD", spent, budget, (), None, due, date(2026, 11, 30))
        figure = burn_up_figure(series, "Acme Site: budget")
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        renderer = canvas.get_renderer()
        width = figure.bbox.width
        labels = [*figure.axes[0].get_yticklabels(), figure.axes[0].yaxis.label]
        shown = [label for label in labels if label.get_text()]
        assert shown, top
        for label in shown:
            box = label.get_window_extent(renderer)
            assert box.x0 >= 0 and box.x1 <= width, (top, label.get_text(), box)


def test_a_burn_up_drawn_on_the_kept_figure_is_the_same_picture_as_on_a_new_one() -> None:
    """The drawing process keeps one figure for burn-ups and clears it between charts:
    nothing of the last chart (its lines, due mark, run-out point, legend, limits, title,
    margins) may show in the next."""
    from bot.views.drawing import BurnUp, draw_burn_up, forget_kept_figures

    full, full_daily = summary("90000", [(date(2026, 11, 5), "30000"), (TODAY, "52000")])
    bare, bare_daily = summary(None, [(date(2026, 11, 3), "12")], due=None)
    full_series, bare_series = burn_up(full, full_daily, START), burn_up(bare, bare_daily, START)
    assert full_series.run_out and full_series.forecast and not bare_series.budget_line

    def fresh(series: BurnUp, title: str) -> bytes:
        forget_kept_figures()
        return draw_burn_up(series, title)

    expected = {
        "full": fresh(full_series, "Acme Site: budget"),
        "bare": fresh(bare_series, "Tiny: budget"),
    }
    assert expected["full"] != expected["bare"]
    forget_kept_figures()
    for _ in range(2):
        assert draw_burn_up(full_series, "Acme Site: budget") == expected["full"]
        assert draw_burn_up(bare_series, "Tiny: budget") == expected["bare"]


def test_a_burn_up_over_its_kept_background_is_the_same_picture_as_a_whole_drawing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a change to a project's spend its burn-up is drawn again, usually on the same
    axes: the part below the data (ticks, tick labels, axis names, grid) is kept as pixels
    and drawn again only when its place, limits or names change. Every picture must be
    the one a whole drawing on a new figure makes, byte for byte."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from bot.views.drawing import BurnUp, burn_up_figure, draw_burn_up, forget_kept_figures

    def whole(series: BurnUp, title: str) -> bytes:
        forget_kept_figures()
        buffer = io.BytesIO()
        canvas = FigureCanvasAgg(burn_up_figure(series, title))
        canvas.print_png(buffer, pil_kwargs={"compress_level": 1})
        return buffer.getvalue()

    drafts = [
        ("90000", [(date(2026, 11, 5), "30000"), (TODAY, "52000")], DUE),
        ("90000", [(date(2026, 11, 5), "30000"), (TODAY, "52400")], DUE),  # a little more
        ("90000", [(date(2026, 11, 5), "30000"), (TODAY, "53100")], DUE),
        (None, [(date(2026, 11, 3), "12")], None),  # other axes
        ("90000", [(date(2026, 11, 5), "30000"), (TODAY, "53100")], DUE),  # back again
        ("2500000", [(date(2026, 11, 5), "300000")], DUE),  # wider amounts: other margins
    ]
    charts = []
    for budget, spent_on, due in drafts:
        figures, daily = summary(budget, spent_on, due=due)
        charts.append((burn_up(figures, daily, START), "Acme Site: budget"))
    expected = [whole(series, title) for series, title in charts]

    backgrounds = 0
    real_draw = FigureCanvasAgg.draw

    def counted_draw(canvas: FigureCanvasAgg) -> None:
        nonlocal backgrounds
        backgrounds += 1
        real_draw(canvas)

    monkeypatch.setattr(FigureCanvasAgg, "draw", counted_draw)
    forget_kept_figures()
    drawn = [draw_burn_up(series, title) for series, title in charts]
    assert [png == want for png, want in zip(drawn, expected, strict=True)] == [True] * 6
    assert len(set(drawn)) == 5  # the same data twice is the same picture, else not
    assert backgrounds == 3  # the 2nd, 3rd (more spend) and 5th (back again) kept theirs


def test_a_busy_workspaces_burn_ups_are_redrawn_over_their_kept_title_and_axes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fifty projects take turns at their budgets (bench/, the mixed workload): after a
    change to a project's spend, its burn-up is drawn over its kept background, which
    holds its axes, its title and the names of its lines: only the figures that moved
    (the lines, the run-out date, the due mark) are drawn again. The kept backgrounds
    are small (compressed): one for each of the projects asked about lately."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    from bot.views import drawing
    from bot.views.drawing import BurnUp, draw_burn_up, forget_kept_figures

    def chart(project: int, more: int) -> tuple[BurnUp, str]:
        budget = 10_000 * (project + 1)  # each project's own axes; it runs out before due
        first, today = str(budget * 0.3), str(budget * 0.3 + more)
        figures, daily = summary(str(budget), [(date(2026, 11, 5), first), (TODAY, today)])
        return burn_up(figures, daily, START), f"Project {project}: budget"

    backgrounds, texts = 0, []
    real_draw, real_text_draw = FigureCanvasAgg.draw, Text.draw

    def counted_draw(canvas: FigureCanvasAgg) -> None:
        nonlocal backgrounds
        backgrounds += 1
        real_draw(canvas)

    def counted_text(text: Text, renderer: object) -> None:
        if text.get_text():
            texts.append(text.get_text())
        real_text_draw(text, renderer)

    monkeypatch.setattr(FigureCanvasAgg, "draw", counted_draw)
    monkeypatch.setattr(Text, "draw", counted_text)
    forget_kept_figures()
    projects = range(50)
    for project in projects:
        draw_burn_up(*chart(project, 0))
    assert backgrounds == 50
    texts.clear()
    again = [draw_burn_up(*chart(project, 5)) for project in projects]  # a little more
    assert backgrounds == 50, "each project's background is kept"
    assert not [t for t in texts if "budget" in t or t.endswith(("Spent", "Budget"))], texts
    assert sum("Runs out" in t for t in texts) == 50  # what moves is drawn each time
    kept = drawing._KEPT_BACKGROUNDS  # noqa: SLF001 - what the drawing process holds
    assert len(kept) == 50 and sum(map(len, kept.values())) < 50 * 100_000
    # And each is the picture a whole drawing makes.
    forget_kept_figures()
    monkeypatch.setattr(Text, "draw", real_text_draw)
    assert [draw_burn_up(*chart(project, 5)) for project in (0, 49)] == [again[0], again[-1]]


def test_a_burn_ups_amounts_are_drawn_to_under_a_pixel_of_its_plot() -> None:
    """Amounts are kept in a chart's data (which it is drawn, kept and uploaded by) to a
    step that moves no line by a pixel: what a drawing cannot show does not draw it anew."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from bot.views.drawing import BurnUp, _round_top, amount_step, burn_up_figure

    start, today, due = date(2026, 9, 1), date(2026, 11, 30), date(2027, 3, 1)
    for highest in ("0.40", "37.5", "999", "50000", "900000", "161100000.00", "7000000000"):
        step = amount_step(D(highest))
        assert step >= D("0.01")
        assert step.normalize().as_tuple().digits in ((1,), (2,), (5,))  # 1, 2 or 5 x 10^n
        if D(highest) < 2:  # below that a chart is drawn to the cent, as the money is
            assert step == D("0.01")
            continue
        assert step <= D(highest) / 250 < step * 5  # the coarsest of the three that fits
        spent = (Point(start, D(0)), Point(today, D(highest)))
        series = BurnUp("USD", spent, (), (), None, due, today)
        canvas = FigureCanvasAgg(burn_up_figure(series, "Acme Site: budget"))
        canvas.draw()
        plot_pixels = canvas.figure.axes[0].get_window_extent().height
        top = _round_top(float(highest))
        # Rounded to the nearest step, an amount is off by half a step at most.
        assert float(step / 2) / top * plot_pixels < 0.55, (highest, step, plot_pixels)


def test_a_spend_too_small_to_move_a_line_keeps_the_chart_and_a_larger_one_draws_anew() -> None:
    from bot.messages import Chart
    from bot.views.drawing import BurnUp, burn_up_data, chart_key

    start, today, due = date(2026, 9, 1), date(2026, 11, 30), date(2027, 3, 1)

    def key(spent: str, projected: str) -> tuple[str, str]:
        series = BurnUp(
            "USD",
            (Point(start, D(0)), Point(today, D(spent))),
            (Point(start, D("900000")), Point(due, D("900000"))),
            (Point(today, D(spent)), Point(due, D(projected))),
            date(2027, 2, 10),
            due,
            today,
        )
        return chart_key(Chart("burn-up", burn_up_data(series, "Acme: burn-up"), "alt"))

    # On a budget of 900,000 the step is 2,000: a few hours logged move nothing visible.
    assert key("412345.67", "612000.00") == key("412600.00", "612400.00")
    assert key("412345.67", "612000.00") != key("415000.00", "612000.00")
    assert key("412345.67", "612000.00") != key("412345.67", "616000.00")
