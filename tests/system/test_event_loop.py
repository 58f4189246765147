"""The event loop `liaison serve` runs on (adapters.event_loop)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from adapters import event_loop


async def _running_loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_liaison_serve_runs_on_uvloop_where_it_is_installed() -> None:
    assert event_loop.run(_running_loop_module()).startswith("uvloop")


def test_without_uvloop_it_runs_on_asyncios_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop raises ImportError
    assert event_loop.run(_running_loop_module()).startswith("asyncio")
