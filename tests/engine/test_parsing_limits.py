"""Hostile sizes: 100 KiB of text (long digit runs, unclosed mentions, `key:` runs) is
refused with a clear message before any pattern reads it. The bound is counted, not timed:
a meter around every pattern of the parser and of Slack's inbound text adds up the
characters each call is handed, so a quadratic scan shows as a count, on any machine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack import inbound as slack
from bot.engine import parsing
from bot.engine.parsing import MAX_LINE, MAX_OPTION, Args, check_line, parse_duration
from bot.errors import UserError

KIB = 1024
BOT = "UBOT1"
SCANS = ("match", "fullmatch", "search", "findall", "finditer", "sub", "subn", "split")


class Meter:
    """The characters handed to regular expressions, call by call."""

    def __init__(self) -> None:
        self.characters = 0
        self.calls = 0

    def count(self, subject: object, position: int = 0) -> None:
        self.calls += 1
        if isinstance(subject, str):
            self.characters += len(subject) - position


class MeteredPattern:
    def __init__(self, pattern: re.Pattern[str], meter: Meter) -> None:
        self._pattern, self._meter = pattern, meter

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._pattern, name)
        if name not in SCANS:
            return method

        def metered(*args: Any, **kwargs: Any) -> Any:
            subject = args[1] if name in ("sub", "subn") else args[0]
            self._meter.count(
                subject, args[1] if len(args) > 1 and name not in ("sub", "subn") else 0
            )
            return method(*args, **kwargs)

        return metered


class MeteredRe:
    """The `re` module as the metered modules see it (and only they: not hypothesis)."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter

    def __getattr__(self, name: str) -> Any:
        function = getattr(re, name)
        if name not in SCANS:
            return function

        def metered(pattern: Any, *args: Any, **kwargs: Any) -> Any:
            self._meter.count(args[1] if name in ("sub", "subn") else args[0])
            return function(pattern, *args, **kwargs)

        return metered


@pytest.fixture
def meter(monkeypatch: pytest.MonkeyPatch) -> Iterator[Meter]:
    meter = Meter()
    modules: list[ModuleType] = [parsing, slack]
    for module in modules:
        for name, value in list(vars(module).items()):
            if isinstance(value, re.Pattern):
                monkeypatch.setattr(module, name, MeteredPattern(value, meter))
        monkeypatch.setattr(module, "re", MeteredRe(meter))
    yield meter


FRAGMENTS = st.sampled_from(
    ["1", "9" * 50, f"<@{BOT}|", "<@", "<", "|", "due:", "a:", '"', " ", "&amp;", "1.5h", "<at>"]
)
hostile = (
    st.lists(FRAGMENTS, min_size=1, max_size=8)
    .filter(lambda p: "".join(p).strip())
    .map(lambda parts: ("".join(parts) * (100 * KIB // len("".join(parts)) + 1))[: 100 * KIB])
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=hostile)
def test_100_kib_of_slack_text_is_refused_before_any_pattern_reads_it(
    meter: Meter, text: str
) -> None:
    meter.characters = 0
    event = {"event": {"type": "app_mention", "text": f"<@{BOT}> {text}", "user": "U1"}}
    for line in (
        slack.extract_event_text(event, BOT),
        slack.extract_command_text({"text": text}),
        slack.extract_shortcut_text({"message": {"text": text}}),
    ):
        with pytest.raises(UserError, match="commands stop at 4,000"):
            check_line(line)
    assert meter.characters == 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=hostile)
def test_a_100_kib_duration_is_refused_unread(meter: Meter, text: str) -> None:
    meter.characters = 0
    with pytest.raises(UserError, match="as a duration"):
        parse_duration(text)
    assert meter.characters == 0


def test_a_duration_is_read_part_by_part(meter: Meter) -> None:
    # One anchored match per part, each starting where the last ended: a digit run is read
    # once (findall tried it again from every one of its positions).
    assert parse_duration("1h" * 20) == 20
    assert meter.calls == 20
    meter.calls = 0
    with pytest.raises(UserError, match="as a duration"):
        parse_duration("9" * 39 + "x")
    assert meter.calls == 1


def test_an_option_value_has_a_maximum_length() -> None:
    args = Args.parse(f'decision add "Go" why:"{"x" * (MAX_OPTION + 1)}"')
    with pytest.raises(UserError, match="`why:` is 2,001 characters long; keep it under 2,000"):
        args.option("why")
    assert Args.parse(f'why:"{"x" * MAX_OPTION}"').option("why") == "x" * MAX_OPTION
    assert MAX_OPTION < MAX_LINE


def test_an_unclosed_bot_mention_repeated_is_not_read_to_the_end_each_time() -> None:
    # `[^>]*` read from each `<@UBOT|` to the end of the text: quadratic in the repeats.
    text = f"<@{BOT}|" * (3000 // len(f"<@{BOT}|"))
    assert slack.strip_bot_mention(text + f"<@{BOT}> help", BOT).endswith("help")
