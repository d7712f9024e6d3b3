"""Every coordinator and admin page fits a 390 px phone, in real Chromium.

The pages come from the URL resolver (as in tests/test_permissions.py) and from the
admin's registry, so a new page is measured without a new line here. A page fails when
the document is wider than the viewport, or when an element runs off the right edge
without a scroll container around it to hold it. A table may turn into cards or scroll
sideways, but only inside a named region that takes the keyboard focus and fades the
edge that hides more (static/js/scroll_regions.js). Charts are drawn first, and their
labels must not overlap or run out of the chart.

The demo is crowded on purpose: dyads with long names and a long follow-up note with an
unbroken run of characters (a pasted link), which once made pages several screens wide.

The main coordinator and admin pages are also checked with axe-core at 390 and 1280 px;
with ``CONTINUUM_SCREENSHOTS=1`` they are saved at both widths into docs/screenshots/.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from assessments.coordinate.selectors.alerts import raised_alerts
from assessments.coordinate.services import alert_follow_up
from assessments.models import Wave
from relationships.models import Dyad, User
from tests.browser.conftest import Visit, charts_drawn, serious_violations, shoot
from tests.test_permissions import EXPECTED, POST_ONLY, project_urls, url_for

pytestmark = pytest.mark.browser

PHONE = 390
DESKTOP = 1280
LONG_MENTOR = "Maximiliane Auguste Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh"
LONG_PROTEGE = "Bartholomew Christopher Montgomery-Vanderbilt-Oyelaran-Nakamura"
LONG_NOTE = (
    "Met both partners at the regional office and again by video; agreed a fortnightly "
    "check-in, a shared reading list and a review before the next wave. Notes: "
    + "https://intranet.example.org/mentoring/notes/"
    + "a1b2c3d4e5" * 40
    + " "
)
LONG_NOTE = (LONG_NOTE * 5)[:2000]

# Pages that are not HTML: nothing of theirs is laid out, so there is nothing to measure.
NOT_HTML = {
    "coordinate:send_progress_json": "JSON polled by the send progress page",
    "coordinate:dyad_list": "the dashboard's dyad list as a CSV download",
}
# Pages shown again with a query string that brings out rows the bare URL does not list.
VARIANTS = {"coordinate:alerts": ["?show=followed"]}

# Runs in the page: the elements whose box reaches past the right edge of the viewport
# while no scroll container (overflow other than visible) that itself fits holds them.
# An absolutely placed element escapes every unpositioned ancestor up to its containing
# block, so only positioned ancestors can hold it; a fixed one escapes them all.
OVERFLOWING = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const fits = (box) => box.getBoundingClientRect().right <= edge;
  function held(element) {
    let position = getComputedStyle(element).position;
    if (position === "fixed") return false;
    let onlyPositioned = position === "absolute";
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      const style = getComputedStyle(box);
      const positioned = style.position !== "static" || style.transform !== "none";
      const clips = style.overflowX !== "visible";
      if ((!onlyPositioned || positioned) && clips && fits(box)) return true;
      if (style.position === "fixed") return false;
      if (positioned) onlyPositioned = style.position === "absolute";
    }
    return false;
  }
  const describe = (element) => {
    const id = element.id ? "#" + element.id : "";
    const classes = typeof element.className === "string" && element.className.trim()
      ? "." + element.className.trim().split(/\\s+/).join(".") : "";
    const text = (element.textContent || "").trim().slice(0, 40);
    return `${element.tagName.toLowerCase()}${id}${classes} right=${
      Math.round(element.getBoundingClientRect().right)} "${text}"`;
  };
  return [...document.body.querySelectorAll("*")]
    .filter((element) => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && box.right > edge && !held(element);
    })
    .map(describe);
}"""

# Runs in the page: boxes that scroll sideways (form controls aside, which scroll on their
# own) must be regions a keyboard reaches, with a name, that show there is more to see.
HIDDEN_SCROLLERS = """() => [...document.querySelectorAll("main *, #content *")]
  .filter((box) => !box.matches("select, textarea, input")
    && ["auto", "scroll"].includes(getComputedStyle(box).overflowX)
    && box.scrollWidth > box.clientWidth + 1)
  .filter((box) => !(box.tabIndex === 0 && box.getAttribute("role") === "region"
    && (box.getAttribute("aria-label")
      || document.getElementById(box.getAttribute("aria-labelledby"))?.textContent.trim())
    && (box.scrollLeft > 0 || getComputedStyle(box).maskImage !== "none")))
  .map((box) => `${box.tagName.toLowerCase()}.${box.className} ${box.scrollWidth}px`)"""

# Runs in the page: pairs of chart labels (axis ticks and titles, legend entries,
# annotations, Sankey node labels) whose boxes touch: across, or more than a pixel down.
OVERLAPPING_LABELS = """() => {
  const found = [];
  const labels = ".xtick text, .ytick text, .g-xtitle text, .g-ytitle text, .legendtext, "
    + ".annotation-text, .sankey-node text.node-label";
  for (const chart of document.querySelectorAll("[data-chart].chart-drawn")) {
    const boxes = [...chart.querySelectorAll(labels)]
      .filter((text) => text.textContent.trim() && getComputedStyle(text).opacity !== "0")
      .map((text) => [text.textContent.trim(), text.getBoundingClientRect()])
      .filter(([, box]) => box.width > 0);
    boxes.forEach(([a, one], i) => boxes.slice(i + 1).forEach(([b, two]) => {
      const x = Math.min(one.right, two.right) - Math.max(one.left, two.left);
      const y = Math.min(one.bottom, two.bottom) - Math.max(one.top, two.top);
      if (x > 0 && y > 1) found.push(`${chart.id}: "${a}" overlaps "${b}"`);
    }));
    for (const [text, box] of boxes) {
      const frame = chart.getBoundingClientRect();
      if (box.left < frame.left - 1 || box.right > frame.right + 1) {
        found.push(`${chart.id}: "${text}" is cut off at the chart's edge`);
      }
    }
  }
  return found;
}"""


@pytest.fixture
def crowded(transactional_db):
    """The seeded demo, its dyads with long names and one alert followed up at length."""
    call_command("seed_demo", "--dyads", "12", "--waves", "3", verbosity=0)
    Dyad.objects.update(mentor_name=LONG_MENTOR, protege_name=LONG_PROTEGE)
    dyad, wave, reason = next(raised())
    admin_user = User.objects.get(email="admin@example.org")
    alert_follow_up(dyad=dyad, wave=wave, reason=reason, note=LONG_NOTE, user=admin_user)
    return {"dyad": dyad}


def raised():
    """(dyad, wave, reason) of each alert raised now in the demo cohort."""
    for dyad in Dyad.objects.filter(cohort__program__slug="demo").order_by("research_code"):
        for wave in Wave.objects.filter(cohort=dyad.cohort).order_by("number"):
            for reason in sorted(raised_alerts(dyad=dyad, wave=wave)):
                yield dyad, wave, reason


def coordinator_pages(world) -> list[str]:
    """Every page of the ``coordinate`` and ``exports`` namespaces a coordinator or an
    admin opens with GET, with their query-string variants."""
    pages = []
    for name in sorted(project_urls()):
        if not name.startswith(("coordinate:", "exports:")):
            continue
        if EXPECTED.get(name) == POST_ONLY or name in NOT_HTML:
            continue  # POST-only endpoints and data files have no layout
        path = url_for(name, world)
        pages += [path] + [path + query for query in VARIANTS.get(name, [])]
    return pages


def admin_pages() -> list[str]:
    """The admin index and, per registered model, its list and its first row's change
    form (none for a table the demo leaves empty, such as the export log)."""
    pages = [reverse("admin:index")]
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        pages.append(reverse(f"{prefix}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"{prefix}_change", args=[first.pk]))
    return pages


def admin_tab(chromium, live_server, width: int) -> Visit:
    """A tab signed in as the demo admin, who sees every page and the longest navbar."""
    tab = Visit(chromium, live_server.url, width=width)
    page = tab.page
    tab.go("/accounts/login/")
    login = page.locator("main form", has=page.locator("input[name=password]"))
    login.locator("input[name=username]").fill("admin@example.org")
    login.locator("input[name=password]").fill("continuum-demo")
    login.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return tab


def measure(tab: Visit, path: str) -> list[str]:
    """What is wrong with the page's layout at the tab's width; empty when it fits."""
    response = tab.go(path)
    assert response.status == 200, (path, response.status)
    assert urlsplit(tab.page.url).path == urlsplit(path).path, (path, tab.page.url)
    assert response.headers["content-type"].startswith("text/html"), path
    page = tab.page
    charts_drawn(page)
    width = page.evaluate("document.documentElement.clientWidth")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    problems = [f"page is {scroll_width}px wide"] if scroll_width > width else []
    problems += [f"runs off: {found}" for found in page.evaluate(OVERFLOWING)[:5]]
    problems += [f"unmarked scroller: {found}" for found in page.evaluate(HIDDEN_SCROLLERS)]
    problems += page.evaluate(OVERLAPPING_LABELS)
    return [f"{path}: {problem}" for problem in problems]


def test_every_coordinator_page_fits_a_phone(crowded, chromium, live_server):
    tab = admin_tab(chromium, live_server, PHONE)
    problems = []
    for path in coordinator_pages(crowded):
        problems += measure(tab, path)
    assert not problems, "\n".join(problems)
    assert tab.errors == []


def test_every_admin_page_fits_a_phone(crowded, chromium, live_server):
    tab = admin_tab(chromium, live_server, PHONE)
    problems = []
    for path in admin_pages():
        problems += measure(tab, path)
    assert not problems, "\n".join(problems)
    assert tab.errors == []


def test_the_long_follow_up_note_wraps_inside_the_phone_screen(crowded, chromium, live_server):
    dyad = crowded["dyad"]
    tab = admin_tab(chromium, live_server, PHONE)
    for path in (
        reverse("coordinate:alerts", args=["demo", "2026"]) + "?show=followed",
        reverse("coordinate:dyad", args=["demo", "2026", dyad.research_code]),
    ):
        assert measure(tab, path) == []
        note = tab.page.get_by_text(LONG_NOTE[:60]).first
        box = note.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE, path
        assert box["height"] < 3 * 900, path  # wrapped in the cell, not screens of blank


def test_the_manage_page_shows_each_wave_and_its_actions_within_a_phone_screen(
    crowded, chromium, live_server
):
    tab = admin_tab(chromium, live_server, PHONE)
    page = tab.page
    assert measure(tab, reverse("coordinate:manage", args=["demo", "2026"])) == []
    actions = page.locator("table.table-cards a.btn")
    assert actions.count() >= 4  # a Change per wave and the open wave's sending
    for index in range(actions.count()):
        box = actions.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE, actions.nth(index).inner_text()
    assert page.get_by_role("link", name="Send invitations or reminders").first.is_visible()


def test_a_wide_table_is_a_named_focusable_region_that_shows_it_scrolls(
    crowded, chromium, live_server
):
    tab = admin_tab(chromium, live_server, PHONE)
    page = tab.page
    assert measure(tab, reverse("coordinate:cohort", args=["demo", "2026"])) == []
    region = page.get_by_role("region", name=re.compile("^Dyads at"))
    assert region.get_attribute("tabindex") == "0"
    assert "more-right" in region.get_attribute("class")
    region.focus()
    page.keyboard.press("ArrowRight")
    expect(region).to_have_class(re.compile(r"\bmore-left\b"))


def test_charts_take_their_narrow_layout_on_a_phone_and_leave_it_when_turned(
    crowded, chromium, live_server
):
    tab = admin_tab(chromium, live_server, PHONE)
    page = tab.page
    dyad = crowded["dyad"]
    assert measure(tab, reverse("coordinate:dyad", args=["demo", "2026", dyad.research_code])) == []
    charts = page.locator("[data-chart]")
    expect(charts).to_have_count(2)
    expect(page.locator('[data-chart][data-chart-narrow="true"]')).to_have_count(2)
    assert page.locator("#chart-profile .ytick text").count() == 0  # titles sit above bars
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    expect(page.locator('[data-chart][data-chart-narrow="false"]')).to_have_count(2)
    expect(page.locator("#chart-profile .ytick text").first).to_be_visible()
    assert page.evaluate(OVERLAPPING_LABELS) == []


SCREENS = {
    "coordinator-programs": "/coordinate/",
    "coordinator-cohort": "/coordinate/demo/2026/",
    "coordinator-alerts": "/coordinate/demo/2026/alerts/?show=followed",
    "coordinator-manage": "/coordinate/demo/2026/manage/",
    "coordinator-dyad": None,
    "admin-index": "/admin/",
    "admin-dyads": "/admin/relationships/dyad/",
    "exports": "/exports/",
}


def test_the_main_pages_fit_and_pass_axe_at_phone_and_desktop_width(crowded, chromium, live_server):
    dyad = crowded["dyad"]
    screens = {**SCREENS, "coordinator-dyad": f"/coordinate/demo/2026/dyads/{dyad.research_code}/"}
    for width in (PHONE, DESKTOP):
        tab = admin_tab(chromium, live_server, width)
        for name, path in screens.items():
            assert measure(tab, path) == [], path
            assert serious_violations(tab.page) == [], (path, width)
            shoot(tab.page, f"{name}-{width}.png")
        tab.context.close()
