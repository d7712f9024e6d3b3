"""Real Chromium for the browser tests, driven by Playwright (never `playwright install`).

Every test in this folder is skipped, with the reason printed, when Debian's Chromium
is not at /usr/bin/chromium (`apt-get install chromium`).
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason="browser tests need Chromium at /usr/bin/chromium")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


class Visit:
    """A browser tab that records console errors and uncaught exceptions."""

    def __init__(self, browser, base_url: str, width: int = 1280):
        self.base_url = base_url
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url')})")

    def sign_in(self, email: str, password: str) -> None:
        self.page.goto(self.base_url + "/accounts/login/")
        self.page.fill("input[name=username]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("main form button[type=submit]")
        self.page.wait_for_load_state()

    def go(self, path: str):
        return self.page.goto(self.base_url + path)


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shoot(page, name: str) -> None:
    """Save the whole page into docs/screenshots/ when ``CONTINUUM_SCREENSHOTS`` is set."""
    if os.environ.get("CONTINUUM_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def charts_drawn(page) -> None:
    """Wait until every chart of the loaded page is drawn (the last thing a page's
    scripts do), rather than for half a second without network traffic."""
    from playwright.sync_api import expect

    expect(page.locator("[data-chart].chart-drawn")).to_have_count(
        page.locator("[data-chart]").count()
    )


def serious_violations(page) -> list[str]:
    """axe-core (bundled by axe-playwright-python) findings of serious or critical impact."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


@pytest.fixture(scope="session", autouse=True)
def _close_live_server_connections(django_db_setup, django_db_blocker):
    """After the last browser test, end the database sessions the live server's request
    threads still hold (a keep-alive thread outlives its last request), so the test
    database can be dropped. Set up before ``live_server``, so torn down after it."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
