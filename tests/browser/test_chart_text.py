"""A wave label or subscale title written as markup shows as text in the drawn charts, in
real Chromium: no link, no formatting, no Content-Security-Policy violation."""

import pytest
from django.core.management import call_command

from assessments.models import Subscale, Wave
from relationships.models import Dyad
from tests.browser.test_csp import tab_for, violations

pytestmark = pytest.mark.browser

HOSTILE = 'W1 <a href="https://evil.example">Click here</a>'
TITLE = '<b>Learning</b> <a href="https://evil.example/t">and growth</a>'
LINKS = '[data-chart] a, [data-chart] [href*="evil.example"], [data-chart] [*|href*="evil.example"]'


@pytest.fixture
def hostile(transactional_db):
    call_command("seed_demo", "--dyads", "6", "--waves", "3", verbosity=0)
    Wave.objects.filter(cohort__program__slug="demo", number=1).update(label=HOSTILE)
    Subscale.objects.filter(code="REL-LG").update(title=TITLE)


def drawn(page, count: int) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('[data-chart].chart-drawn').length >= {count}"
    )


def tick_texts(page, chart: str, axis: str = "xtick") -> list[str]:
    return page.locator(f"#{chart} .{axis} text").all_text_contents()


def hover_text(page, target: str) -> str:
    page.locator(target).first.hover(force=True)
    page.locator(".hoverlayer .hovertext").first.wait_for()
    return " ".join(page.locator(".hoverlayer").all_text_contents())


def test_the_cohort_dashboard_shows_a_hostile_wave_label_as_text(hostile, chromium, live_server):
    tab = tab_for(chromium, live_server, "coordinator@example.org")
    assert violations(tab, "/coordinate/demo/2026/") == []
    page = tab.page
    drawn(page, 4)
    assert page.locator(LINKS).count() == 0
    assert HOSTILE in tick_texts(page, "chart-states") and HOSTILE in tick_texts(
        page, "chart-rates"
    )
    assert HOSTILE in page.locator("#chart-transitions .annotation-text").all_text_contents()
    assert HOSTILE in hover_text(page, "#chart-states .point path")
    assert page.locator(LINKS).count() == 0
    assert page.evaluate("window.__violations") == [] and tab.errors == []


def test_the_dyad_page_shows_hostile_labels_and_titles_as_text(hostile, chromium, live_server):
    dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
    tab = tab_for(chromium, live_server, "coordinator@example.org")
    path = f"/coordinate/demo/2026/dyads/{dyad.research_code}/?profile_wave=1"
    assert violations(tab, path) == []
    page = tab.page
    drawn(page, 2)
    assert page.locator(LINKS).count() == 0
    assert HOSTILE in tick_texts(page, "chart-trajectory")
    assert TITLE in tick_texts(page, "chart-profile", "ytick")
    assert HOSTILE in hover_text(
        page, "#chart-trajectory .scatterlayer .trace:last-child path.point"
    )
    assert page.locator(LINKS).count() == 0
    assert page.evaluate("window.__violations") == [] and tab.errors == []
