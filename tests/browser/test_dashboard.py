"""A coordinator works through the dashboards of the seeded demo in real Chromium.

Run with ``pytest -m browser``; skipped when ``/usr/bin/chromium`` is missing
(``apt-get install chromium``). With ``CONTINUUM_SCREENSHOTS=1`` the journey also saves
``docs/screenshots/dashboard.png`` and ``dyad-detail.png`` at 1280 px wide.
"""

import pytest
from django.core.management import call_command

from tests import factories
from tests.browser.conftest import Visit, charts_drawn, shoot

DEMO_COHORT = "/coordinate/demo/2026/"

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", verbosity=0)


@pytest.fixture
def visit(chromium, live_server):
    def open_tab(email: str, password: str) -> Visit:
        tab = Visit(chromium, live_server.url)
        tab.sign_in(email, password)
        return tab

    return open_tab


def test_a_coordinator_finds_a_backsliding_dyad_and_follows_its_alert_up(demo, visit):
    tab = visit("coordinator@example.org", "continuum-demo")
    page = tab.page
    tab.go("/coordinate/")
    page.get_by_role("link", name="Demo mentoring program").click()
    page.get_by_role("link", name="2026 cohort").first.click()
    for chart in ("chart-states", "chart-transitions", "chart-agreement", "chart-rates"):
        page.locator(f"#{chart} .main-svg").first.wait_for()
    shoot(page, "dashboard.png")

    page.select_option("#id_wave", "3")
    page.select_option("#id_flag", "reliable_decline")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**flag=reliable_decline**")
    rows = page.locator("table.dyad-table tbody tr")
    assert rows.count() >= 1
    for index in range(rows.count()):
        assert "Reliable decline" in rows.nth(index).inner_text()

    rows.first.locator("th a").click()
    page.locator("#chart-trajectory .main-svg").first.wait_for()
    assert page.locator("#chart-trajectory .main-svg").first.is_visible()
    assert page.locator("#chart-profile .main-svg").count() >= 1
    shoot(page, "dyad-detail.png")

    alert = page.locator("details.follow-up").first
    alert.locator("summary").click()
    alert.locator("textarea").fill("Met both partners; agreed a fortnightly check-in.")
    alert.get_by_role("button", name="Save follow-up").click()
    page.wait_for_load_state()
    assert "Marked as followed up." in page.inner_text("main")
    assert "Met both partners; agreed a fortnightly check-in." in page.inner_text("main")

    tab.go(DEMO_COHORT + "alerts/?show=followed")
    assert "agreed a fortnightly check-in" in page.inner_text("main")
    assert tab.errors == []


def test_a_coordinator_of_another_program_gets_404_on_the_same_pages(demo, visit):
    other = factories.CoordinatorFactory(program=factories.ProgramFactory()).user
    from relationships.models import Dyad

    code = Dyad.objects.filter(cohort__program__slug="demo").first().research_code
    tab = visit(other.email, factories.PASSWORD)
    for path in ("", "alerts/", "psychometrics/", "manage/", f"dyads/{code}/"):
        assert tab.go(DEMO_COHORT + path).status == 404, path
    assert tab.go("/coordinate/demo/").status == 404


def test_the_dashboard_pages_draw_without_console_errors_or_serious_axe_violations(demo, visit):
    from axe_playwright_python.sync_playwright import Axe

    from relationships.models import Dyad

    code = Dyad.objects.filter(cohort__program__slug="demo").last().research_code
    tab = visit("coordinator@example.org", "continuum-demo")
    paths = ["/coordinate/", "/coordinate/demo/", DEMO_COHORT, DEMO_COHORT + "alerts/"]
    paths += [DEMO_COHORT + "psychometrics/", DEMO_COHORT + "manage/"]
    paths += [DEMO_COHORT + f"dyads/{code}/"]
    axe, violations = Axe(), []
    for path in paths:
        assert tab.go(path).status == 200, path
        charts_drawn(tab.page)
        found = axe.run(tab.page).response["violations"]
        violations += [(path, v["id"]) for v in found if v["impact"] in ("serious", "critical")]
    assert violations == []
    drawn = tab.page.locator("[data-chart].chart-drawn")
    assert drawn.count() == 2  # trajectory and profile on the dyad page
    assert tab.errors == []
