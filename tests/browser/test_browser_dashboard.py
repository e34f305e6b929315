"""The dashboard in headless Chromium against a real `promobot serve`: sign in, see the board, promote from
the command box and watch the cell change without a reload, approve a prod promotion as a second user, open
the diff page; no console errors anywhere. Screenshots land in test-output/screenshots/ (and, with
PROMOBOT_UPDATE_SCREENSHOTS=1, in docs/screenshots/ for the README).

Needs Debian's `chromium` and Playwright for Python (its own browser download is never used). Without them
the test is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.running import Setup, until

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "test-output" / "screenshots"
DOCS = REPO / "docs" / "screenshots"

pytestmark = pytest.mark.slow


def _playwright() -> Any:
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "playwright for Python is not installed"
    if missing is None and not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(missing)
    return sync_playwright


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Setup]:
    setup = Setup(tmp_path / "sandbox")
    setup.start()
    try:
        yield setup
    finally:
        setup.stop()


class Watcher:
    """Every console error and uncaught page error of every page, to fail the test on."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def watch(self, page: Any) -> Any:
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"{page.url}: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"{page.url}: {e}"))
        return page


def _sign_in(browser: Any, setup: Setup, user: str, watcher: Watcher) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = watcher.watch(context.new_page())
    page.goto(setup.base_url + "/")
    assert page.url.endswith("/signin")
    token = (setup.root / "tokens" / f"{user}.token").read_text().strip()
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_selector("table.grid")
    return page


def _cell(app: str, env: str, state: str | None = None) -> str:
    selector = f'td.cell[data-app="{app}"][data-env="{env}"]'
    return selector + (f'[data-state="{state}"]' if state else "")


def _shot(page: Any, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


def test_a_promotion_to_prod_through_the_dashboard(served: Setup) -> None:
    sync_playwright = _playwright()
    until(lambda: served.row("development")["state"] == "healthy", 90, "development to run the first build")
    watcher = Watcher()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            developer = _sign_in(browser, served, "developer", watcher)
            developer.wait_for_selector(_cell("web", "development", "healthy"))
            developer.wait_for_selector("#live[data-state=live]")

            # promote from the command box; the qa cell turns healthy with no reload of the page
            developer.fill("#command", "/promote web@development")
            developer.click("form.command button")
            developer.wait_for_selector(".notice")
            developer.evaluate("window.stillTheSamePage = true")
            developer.wait_for_selector(_cell("web", "qa", "healthy"), timeout=90_000)
            assert developer.evaluate("window.stillTheSamePage") is True

            # a prod promotion waits for a release manager, who approves it from their board
            developer.fill("#command", "/promote web@qa prod")
            developer.click("form.command button")
            developer.wait_for_selector(".notice")
            developer.evaluate("window.stillTheSamePage = true")
            manager = _sign_in(browser, served, "release-manager", watcher)
            manager.get_by_role("button", name=re.compile(r"Approve #\d+")).click()  # re-found if the list refreshes
            manager.wait_for_url("**/operations/*")
            text = manager.inner_text("main")
            assert "release-manager" in text and "approved" in text, text
            developer.wait_for_selector(_cell("web", "prod", "healthy"), timeout=90_000)
            assert developer.evaluate("window.stillTheSamePage") is True
            manager.reload()
            manager.wait_for_selector("h1 .badge.op-succeeded", timeout=30_000)
            _shot(manager, "operation")

            # a new develop commit, then the diff from development to prod
            work = served.clone()
            pushed = served.push(work, "Say hello in the footer", {"FOOTER.txt": "hello\n"})
            fresh = _cell("web", "development", "healthy") + f":has-text('dev-{pushed[:7]}')"
            developer.wait_for_selector(fresh, timeout=90_000)
            _shot(developer, "board")
            developer.goto(served.base_url + "/diff?src=development&dst=prod")
            developer.wait_for_selector("text=Say hello in the footer")
            assert "promobot promote web:dev-" in developer.inner_text("main")
            _shot(developer, "diff")

            phone = watcher.watch(developer.context.new_page())
            phone.set_viewport_size({"width": 390, "height": 844})
            phone.goto(served.base_url + "/")
            phone.wait_for_selector(_cell("web", "prod", "healthy"))
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            browser.close()
    assert watcher.problems == []
    if os.environ.get("PROMOBOT_UPDATE_SCREENSHOTS") == "1":  # refresh the README's pictures on purpose only
        DOCS.mkdir(parents=True, exist_ok=True)
        for name in ("board", "operation", "diff"):
            shutil.copyfile(OUTPUT / f"{name}.png", DOCS / f"{name}.png")
