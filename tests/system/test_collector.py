"""The serving process's garbage collector: start-up's objects frozen, collections rarer."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from adapters.serve import YOUNG_COLLECTION_AFTER, settle_collector


@pytest.fixture
def collector_as_it_was() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector_as_it_was")
def test_the_served_process_freezes_what_start_up_built_and_collects_less_often() -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)  # Python's own
    settle_collector()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG_COLLECTION_AFTER, 10, 10)
    assert YOUNG_COLLECTION_AFTER > 700
    collections = gc.get_stats()[0]["collections"]
    made = [[n] for n in range(5_000)]  # tracked objects: 700 would have collected 7 times
    assert gc.get_stats()[0]["collections"] == collections and len(made) == 5_000
