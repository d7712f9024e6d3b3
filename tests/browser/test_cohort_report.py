"""A coordinator takes a cohort away in real Chromium: the printable report as an A4 PDF,
the report and the program page on a 390 px phone, and the dyad list as a CSV download.

Skipped when ``/usr/bin/chromium`` is missing. With ``CONTINUUM_SCREENSHOTS=1`` the
tests also save ``docs/screenshots/cohort-report-print.png`` (the report as print
media at A4 width), ``cohort-report-390.png`` and ``program-history-390.png``.
"""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser.conftest import Visit, serious_violations, shoot

REPORT = "/coordinate/demo/2026/report/"
PHONE = 390
A4_POINTS = (595.0, 842.0)  # 210 × 297 mm
A4_PIXELS = 794  # 210 mm at 96 px an inch
A4_CONTENT_PIXELS = 703  # less the 12 mm side margins of the report's @page

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", verbosity=0)


@pytest.fixture
def visit(chromium, live_server):
    def open_tab(width: int = 1280) -> Visit:
        tab = Visit(chromium, live_server.url, width=width)
        tab.sign_in("coordinator@example.org", "continuum-demo")
        return tab

    return open_tab


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """Width and height (points) of each page of a PDF that Chromium wrote, read from
    its page objects (Chromium writes them uncompressed)."""
    pages = re.findall(
        rb"/Type\s*/Page\b(?!s).*?/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", data, re.S
    )
    return [(float(w), float(h)) for w, h in pages]


def test_the_report_prints_as_clean_a4_pages(demo, visit):
    tab = visit()
    page = tab.page
    assert tab.go(REPORT).status == 200
    data = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert data.startswith(b"%PDF-")
    sizes = pdf_pages(data)
    assert 1 <= len(sizes) <= 3
    assert all(abs(w - A4_POINTS[0]) < 2 and abs(h - A4_POINTS[1]) < 2 for w, h in sizes)

    page.set_viewport_size({"width": A4_CONTENT_PIXELS, "height": 1000})
    page.emulate_media(media="print")
    for hidden in ("body > header", "body > footer", "nav[aria-label=Breadcrumb]"):
        assert not page.locator(hidden).is_visible(), hidden
    assert page.get_by_role("button").count() == 0 or not page.get_by_role("button").is_visible()
    assert not page.get_by_role("link", name="Back to the dashboard").is_visible()
    text = page.inner_text("main")
    for heading in ("Headline", "States per wave", "Movement between waves", "Response rates"):
        assert heading in text
    assert "Open alerts" in text and "No wave has opened yet." not in text
    rows = page.evaluate(
        "Array.from(document.querySelectorAll('.report-table tr'))"
        ".map(row => getComputedStyle(row).breakInside)"
    )
    assert rows and set(rows) == {"avoid"}
    heads = page.evaluate(
        "Array.from(document.querySelectorAll('.report-table thead'))"
        ".map(head => getComputedStyle(head).display)"
    )
    assert set(heads) == {"table-header-group"}
    # A row's name ("Wave 1", a state) is printed on one line.
    wrapped = page.evaluate(
        "Array.from(document.querySelectorAll('.report-table tbody th[scope=row]'))"
        ".filter(cell => { const text = document.createRange(); text.selectNodeContents(cell);"
        " return text.getClientRects().length > 1; }).map(cell => cell.textContent.trim())"
    )
    assert page.locator(".report-table tbody th[scope=row]").count() > 0
    assert wrapped == []
    # Nothing is wider than the printed page, so no table is cut at its right edge.
    assert page.evaluate("document.documentElement.scrollWidth") <= A4_CONTENT_PIXELS
    page.set_viewport_size({"width": A4_PIXELS, "height": 1123})
    shoot(page, "cohort-report-print.png")
    assert tab.errors == []


def test_the_report_and_the_program_page_work_on_a_phone(demo, visit):
    tab = visit(PHONE)
    page = tab.page
    for path, name in (
        (REPORT, "cohort-report-390.png"),
        ("/coordinate/demo/", "program-history-390.png"),
    ):
        assert tab.go(path).status == 200
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE, path
        regions = page.locator(".report-scroll[role=region]")
        assert regions.count() >= 1
        for index in range(regions.count()):
            region = regions.nth(index)
            assert region.get_attribute("aria-label")
            assert region.get_attribute("tabindex") == "0"
        assert serious_violations(page) == [], path
        shoot(page, name)
    assert "Cohorts over time" in page.inner_text("main")
    page.get_by_role("link", name="report 2026 cohort").click()
    page.wait_for_url("**/report/")
    assert page.get_by_role("button", name="Print or save as PDF").is_visible()
    assert tab.errors == []


def test_the_dashboards_list_downloads_as_csv_under_its_filters(demo, visit):
    tab = visit()
    page = tab.page
    tab.go("/coordinate/demo/2026/?state=relational")
    with page.expect_download() as event:
        page.get_by_role("link", name="Download this list (CSV)").click()
    download = event.value
    assert re.fullmatch(r"demo-2026-dyads-wave\d+\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    listed = page.locator("table.dyad-table tbody th a").all_inner_texts()
    assert listed and list(dict.fromkeys(row["dyad"] for row in rows)) == listed
    assert tab.errors == []
