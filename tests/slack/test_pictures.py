"""The charts shown lately in each conversation (adapters.slack.pictures)."""

from __future__ import annotations

from adapters.slack.pictures import ShownCharts, chart_digest, shown_key
from bot.messages import Chart


def _chart(spent: int, alt: str = "Budget burn-up") -> Chart:
    return Chart("burn-up", {"spent": [spent], "currency": "USD"}, alt)


def test_a_chart_is_known_by_everything_it_was_made_from() -> None:
    assert chart_digest(_chart(1)) == chart_digest(_chart(1))
    assert chart_digest(_chart(1)) != chart_digest(_chart(2))
    assert chart_digest(_chart(1)) != chart_digest(_chart(1, alt="Another title"))


def test_a_file_is_found_only_for_its_own_installation_and_conversation() -> None:
    shown = ShownCharts()
    shown.remember(shown_key("UBOT", "C1", _chart(1)), "F1")
    assert shown.file_id(shown_key("UBOT", "C1", _chart(1))) == "F1"
    assert shown.file_id(shown_key("UBOT", "C2", _chart(1))) is None
    assert shown.file_id(shown_key("UOTHERBOT", "C1", _chart(1))) is None
    assert shown.file_id(shown_key("UBOT", "C1", _chart(2))) is None
    shown.forget(shown_key("UBOT", "C1", _chart(1)))
    assert shown.file_id(shown_key("UBOT", "C1", _chart(1))) is None


def test_the_least_lately_shown_is_forgotten_first() -> None:
    shown = ShownCharts(size=2)
    first, second, third = (shown_key("UBOT", "C1", _chart(n)) for n in (1, 2, 3))
    shown.remember(first, "F1")
    shown.remember(second, "F2")
    assert shown.file_id(first) == "F1"  # shown again: now the latest
    shown.remember(third, "F3")
    assert shown.file_id(second) is None
    assert (shown.file_id(first), shown.file_id(third)) == ("F1", "F3")
