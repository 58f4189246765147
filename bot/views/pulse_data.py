"""The pulses a project asked and their answers, read for many projects in one statement
(status, reports and the `pulse` command read them; all of it is internal)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.pulse import TREND_LENGTH, PulsePoint
from storage.models import Pulse, PulseAnswer
from storage.reads import column_rows


async def load_pulse_trends(
    session: AsyncSession, project_ids: Sequence[int], length: int = TREND_LENGTH
) -> dict[int, tuple[PulsePoint, ...]]:
    """Each project's last `length` pulses, oldest first, with their scores."""
    if not project_ids:
        return {}
    query = pulses_query().where(Pulse.project_id.in_(list(project_ids)))
    return pulse_trends_of(await column_rows(session, query), length)


def pulses_query() -> Select[Any]:
    """Every pulse and its answers' scores, by project and day (narrow it with a where or
    a join): the rows `pulse_trends_of` reads."""
    return (
        select(Pulse.project_id, Pulse.id, Pulse.asked_on, PulseAnswer.score)
        .outerjoin(PulseAnswer, PulseAnswer.pulse_id == Pulse.id)
        .order_by(Pulse.project_id, Pulse.asked_on)
    )


def pulse_trends_of(
    rows: Iterable[Sequence[Any]], length: int = TREND_LENGTH
) -> dict[int, tuple[PulsePoint, ...]]:
    scores: dict[int, dict[int, list[int]]] = defaultdict(dict)
    days: dict[int, object] = {}
    for project_id, pulse_id, asked_on, score in rows:
        days[pulse_id] = asked_on
        answers = scores[project_id].setdefault(pulse_id, [])
        if score is not None:
            answers.append(score)
    return {
        pid: tuple(
            PulsePoint(days[pulse_id], tuple(found))  # type: ignore[arg-type]
            for pulse_id, found in list(pulses.items())[-length:]
        )
        for pid, pulses in scores.items()
    }
