"""Every kind of page works under the Content-Security-Policy, in real Chromium.

The policy forbids inline script and style; a page that needed either would report a
``securitypolicyviolation`` event, which the tab collects from before the first byte.
"""

import re
from pathlib import Path

import plotly
import pytest
from django.core.management import call_command

from assessments.models import Wave
from relationships.models import Dyad
from tests.browser.conftest import Visit, charts_drawn

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
COLLECT = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--dyads", "12", "--waves", "3", verbosity=0)


def tab_for(chromium, live_server, email: str | None) -> Visit:
    tab = Visit(chromium, live_server.url)
    tab.context.add_init_script(COLLECT)
    if email:
        tab.sign_in(email, "continuum-demo")
    return tab


def violations(tab: Visit, path: str) -> list[str]:
    response = tab.go(path)
    assert response.status == 200, (path, response.status)
    charts_drawn(tab.page)
    return tab.page.evaluate("window.__violations")


def test_the_policy_header_forbids_inline_code(demo, client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_participant_pages_break_no_rule(demo, chromium, live_server):
    dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
    last = Wave.objects.filter(cohort=dyad.cohort).order_by("number").last()
    tab = tab_for(chromium, live_server, "mentor@example.org")
    for path in (
        "/",
        "/me/",
        f"/me/survey/{dyad.research_code}/{last.number}/page/1/",
        f"/me/results/{dyad.research_code}/{last.number - 1}/",
        "/accounts/password/",
        "/me/data/",
    ):
        assert violations(tab, path) == [], path
    assert tab.errors == []


def test_dashboards_draw_their_charts_and_break_no_rule(demo, chromium, live_server):
    dyad = Dyad.objects.filter(cohort__program__slug="demo").order_by("research_code").first()
    tab = tab_for(chromium, live_server, "coordinator@example.org")
    assert violations(tab, "/coordinate/demo/2026/") == []
    tab.page.locator("#chart-states .main-svg").first.wait_for()
    # plotly's own rules came from our stylesheet: its main SVG layers are absolutely placed
    position = tab.page.eval_on_selector(
        "#chart-states .main-svg", "e => getComputedStyle(e).position"
    )
    assert position == "absolute"
    assert violations(tab, f"/coordinate/demo/2026/dyads/{dyad.research_code}/") == []
    tab.page.locator(".main-svg").first.wait_for()
    assert tab.errors == []


def test_admin_and_exports_pages_break_no_rule(demo, chromium, live_server):
    tab = tab_for(chromium, live_server, "admin@example.org")
    for path in ("/admin/", "/admin/relationships/dyad/", "/admin/audit/auditevent/", "/exports/"):
        assert violations(tab, path) == [], path


def test_plotly_injects_styles_only_where_the_dashboard_turns_it_off():
    bundle = PLOTLY_JS.read_text()
    template = (ROOT / "templates" / "coordinate" / "base.html").read_text()
    assert bundle.count('createElement("style")') == 2
    assert 'id="plotly.js-style-global" class="no-inline-styles"' in template
    map_styles = re.search(r'getElementById\("([0-9a-f]{64})"\)', bundle).group(1)
    assert f'id="{map_styles}"' in template


def test_the_plotly_stylesheet_holds_exactly_the_rules_plotly_would_inject(chromium):
    page = chromium.new_page()
    page.set_content("<html><head></head><body></body></html>")
    page.add_script_tag(path=str(PLOTLY_JS))
    injected = page.evaluate(
        """() => Array.from(document.getElementById("plotly.js-style-global").sheet.cssRules)
                 .map((rule) => rule.cssText).reverse()"""
    )
    text = (ROOT / "static" / "css" / "plotly.css").read_text()
    ours = [line for line in re.sub(r"/\*.*?\*/", "", text, flags=re.S).splitlines() if line]
    assert ours == injected
