"""The playground end to end in a real headless Chromium (Debian's package), driven by
Playwright for Python. A screenshot of each step is kept under test-output/playground/.

Without /usr/bin/chromium these tests are skipped with the reason; under CI=true they fail
instead, so CI never reports them as passed without running them."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.playground_app import PlaygroundApp, playground_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "playground"
# An amount of money as Liaison writes it: a currency code and a number.
AMOUNT = re.compile(r"\b[A-Z]{3} \d")


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return "Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture
async def page(db_url: str) -> AsyncIterator[tuple[Any, PlaygroundApp]]:
    missing = _browser_missing()
    if missing:
        if IN_CI:
            pytest.fail(f"{missing}; the browser tests are required under CI=true")
        pytest.skip(missing)
    from playwright.async_api import async_playwright

    async with playground_app(db_url) as app, async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            tab = await browser.new_page(viewport={"width": 1280, "height": 860})
            tab.set_default_timeout(15_000)
            errors: list[str] = []
            tab.on("pageerror", lambda error: errors.append(str(error)))
            await tab.goto(str(app.client.make_url("/")))
            await tab.wait_for_selector("body[data-ready=yes]", state="attached")
            yield tab, app
            assert errors == [], errors
        finally:
            await browser.close()


async def shot(tab: Any, name: str, db_url: str) -> Path:
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    path = OUTPUT / backend / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await tab.screenshot(path=str(path))
    return path


async def type_line(tab: Any, line: str) -> None:
    await tab.fill("[data-testid=line]", line)
    await tab.press("[data-testid=line]", "Enter")


def last_reply(tab: Any) -> Any:
    return tab.locator("[data-testid=messages] [data-testid=entry-reply]").last


async def test_a_newcomer_tries_liaison_in_the_browser(
    page: tuple[Any, PlaygroundApp], db_url: str
) -> None:
    tab, app = page
    # 1. The empty page offers the demo.
    await tab.wait_for_selector("[data-testid=empty]", state="visible")
    await shot(tab, "01-empty", db_url)

    # 2. The demo is made by ordinary commands; the PM sees them in #team.
    await tab.click("[data-testid=demo]")
    await tab.wait_for_selector("[data-testid=empty]", state="hidden")
    await tab.locator("text=Task 5 (Payment integration) is blocked").wait_for()
    await shot(tab, "02-demo", db_url)

    # 3. `status` as the PM shows the budget; `budget` draws the burn-up chart.
    await type_line(tab, "status")
    await last_reply(tab).locator("text=Acme Website").first.wait_for()
    assert AMOUNT.search(await last_reply(tab).inner_text())
    await shot(tab, "03-pm-status", db_url)
    await type_line(tab, "budget")
    chart = last_reply(tab).locator("img.chart")
    await chart.wait_for()
    assert (await chart.get_attribute("alt") or "").startswith("Budget burn-up of Acme Website")
    assert await chart.evaluate("img => img.complete && img.naturalWidth > 0")
    await chart.scroll_into_view_if_needed()
    pm_view = await shot(tab, "04-pm-budget-chart", db_url)
    if os.environ.get("LIAISON_DOCS_SCREENSHOT") == "1" and "sqlite" in str(pm_view):
        shutil.copy(pm_view, ROOT / "docs" / "playground.png")
    await type_line(tab, "projects")  # a reply only the asker sees
    await last_reply(tab).locator("text=Your projects").wait_for()
    assert await last_reply(tab).locator(".only-you").inner_text() == "Only visible to you"

    # 4. The client, from another organisation, sees only the shared channel and no amount.
    await tab.select_option("[data-testid=speaker]", "carol")
    await tab.wait_for_selector("[data-testid=place-team]", state="detached")
    assert await tab.inner_text("[data-testid=place-title]") == "#acme-shared"
    await type_line(tab, "status")
    reply = last_reply(tab)
    await reply.locator("text=Acme Website").first.wait_for()
    text = await reply.inner_text()
    assert "Budget" not in text and not AMOUNT.search(text), text
    page_text = await tab.inner_text("body")
    assert "40,000" not in page_text and "13,500" not in page_text
    await shot(tab, "05-client-status", db_url)

    # 5. The client approves the pending change with its button.
    await tab.locator("button.action", has_text="Approve").first.click()
    await last_reply(tab).locator("text=/approved/i").first.wait_for()
    await shot(tab, "06-client-approved", db_url)

    # 6. The PM travels to the next morning and the check-in arrives in #team.
    await tab.select_option("[data-testid=speaker]", "ann")
    await tab.wait_for_selector("[data-testid=place-team]")
    await tab.click("[data-testid=place-team]")
    await tab.select_option("[data-testid=travel-preset]", "tomorrow|09:00")
    await tab.click("[data-testid=travel-go]")
    arrived = tab.locator(
        "[data-testid=messages] [data-testid=entry-post]", has_text="Good morning"
    )
    await arrived.last.wait_for()
    assert "Acme Website" in await arrived.last.inner_text()
    assert "Wed 2 Dec, 09:00" in await tab.inner_text("[data-testid=clock]")
    await shot(tab, "07-next-morning-checkin", db_url)
    assert app.playground.clock().isoformat() == "2026-12-02T08:00:00+00:00"
