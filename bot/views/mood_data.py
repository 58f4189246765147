"""The team's anonymous mood as it may be shown: daily averages, only of days with at least
`MIN_MOOD_ANSWERS` mood answers, read from the per-day score counts (`HuddleMood`) of many
projects in one statement. Read by `huddle stats` and the internal weekly report; never by
anything a client audience sees."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Chart, Facts, Heading
from bot.views.drawing import mood_trend_data
from bot.views.notices import day_label
from storage.models import HuddleMood

MIN_MOOD_ANSWERS = 3
MOOD_QUESTION = "How are you feeling today? 1-5 (anonymous, optional)"


@dataclass(frozen=True, slots=True)
class MoodDay:
    day: date
    answers: int
    average: Decimal  # one decimal place


async def load_mood_days(
    session: AsyncSession, project_ids: list[int], first: date, last: date
) -> dict[int, list[MoodDay]]:
    """Each project's shown mood days from `first` to `last`."""
    if not project_ids:
        return {}
    rows = await session.execute(
        select(HuddleMood.project_id, HuddleMood.day, HuddleMood.score, HuddleMood.count)
        .where(HuddleMood.project_id.in_(project_ids), HuddleMood.day.between(first, last))
        .order_by(HuddleMood.project_id, HuddleMood.day)
    )
    totals: dict[int, dict[date, tuple[int, int]]] = defaultdict(dict)
    for project_id, day, score, count in rows:
        answers, points = totals[project_id].get(day, (0, 0))
        totals[project_id][day] = (answers + count, points + score * count)
    return {
        project_id: [
            MoodDay(day, answers, _average(points, answers))
            for day, (answers, points) in days.items()
            if answers >= MIN_MOOD_ANSWERS
        ]
        for project_id, days in totals.items()
    }


def _average(points: int, answers: int) -> Decimal:
    return (Decimal(points) / Decimal(answers)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def mood_blocks(project_name: str, days: list[MoodDay]) -> list[Heading | Facts | Chart]:
    """The team mood's daily averages and their trend chart (still to draw)."""
    if not days:
        return []
    points = [(d.day, d.average) for d in days]
    title = f"{project_name}: team mood, last 4 weeks"
    alt = "Team mood by day: " + "; ".join(f"{d.day.isoformat()} {d.average}" for d in days)
    return [
        Heading("Team mood (anonymous daily average, 1-5)"),
        Facts(tuple((day_label(d.day), f"{d.average} ({d.answers} answers)") for d in days)),
        Chart("mood-trend", mood_trend_data(points, title), alt[:500], "mood-trend.png"),
    ]
