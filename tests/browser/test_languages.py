"""The interface in another language, in real Chromium on a 390 px phone: a coordinator
switches the cohort dashboard to French and a mentor their survey to Spanish with the
switcher, without script; no English text of the catalogue is left on the page,
``<html lang>`` follows, and axe-core finds no serious problem.

With ``CONTINUUM_SCREENSHOTS=1`` the French dashboard is saved at 390 and 1280 px into
docs/screenshots/.
"""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from tests.browser.conftest import Visit, serious_violations, shoot

pytestmark = pytest.mark.browser

PHONE = 390
DESKTOP = 1280
LOCALE = Path(settings.BASE_DIR) / "locale"
# Replaced by a value on the page, so never seen as written.
FIELD = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]|%[sdr%]|\{\w*\}|<[^>]+>")
# Runs of a msgid shorter than this (or of one word) are too common to tell a page is
# untranslated: "OK", "Email", "Mentor", "Position", "Page 2".
SHORTEST = 14


def english_runs(language: str) -> set[str]:
    """The runs of English text of the catalogue's msgids, between placeholders and
    tags, that a page in ``language`` must not show (those its translation keeps, such
    as names of files and commands, are left out)."""
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    runs = set()
    for entry in catalogue.translated_entries():
        translation = " ".join([entry.msgstr, *entry.msgstr_plural.values()]).lower()
        for source in filter(None, (entry.msgid, entry.msgid_plural)):
            for run in FIELD.split(source):
                run = " ".join(run.split()).strip(" .,:;()–-")
                if len(run) >= SHORTEST and " " in run and run.lower() not in translation:
                    runs.add(run)
    return runs


def english_left(page, language: str) -> list[str]:
    text = " ".join(page.locator("body").inner_text().split())
    return sorted(run for run in english_runs(language) if run in text)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE


def switch_to(tab: Visit, label: str) -> None:
    """Choose a language with the switcher and its button: a plain form post."""
    page = tab.page
    page.select_option("#language-switcher", label=label)
    with page.expect_navigation():
        page.locator("form.language-switcher button[type=submit]").click()


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--dyads", "12", "--waves", "3", verbosity=0)


def test_a_coordinator_reads_the_cohort_dashboard_in_french(demo, chromium, live_server):
    tab = Visit(chromium, live_server.url, width=PHONE)
    tab.sign_in("coordinator@example.org", "continuum-demo")
    page = tab.page
    tab.go("/coordinate/demo/2026/")
    assert len(english_left(page, "fr")) > 10  # the scan finds the English it looks for
    switch_to(tab, "Français")
    assert page.url.endswith("/coordinate/demo/2026/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.locator("[data-chart].chart-drawn").first.wait_for()
    assert page.get_by_role("heading", name="Dyades", exact=True).count() == 1
    assert english_left(page, "fr") == []
    assert fits(page)
    assert serious_violations(page) == []
    shoot(page, "coordinator-dashboard-fr-390.png")
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    page.reload()
    page.locator("[data-chart].chart-drawn").first.wait_for()
    shoot(page, "coordinator-dashboard-fr-1280.png")
    assert tab.errors == []


def test_a_mentor_answers_their_survey_in_spanish_on_a_phone(demo, chromium, live_server):
    tab = Visit(chromium, live_server.url, width=PHONE)
    tab.sign_in("mentor@example.org", "continuum-demo")
    page = tab.page
    tab.go("/me/")
    switch_to(tab, "Español")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Mis relaciones de mentoría").count() == 1
    assert english_left(page, "es") == []
    assert serious_violations(page) == []
    assert fits(page)
    page.get_by_role("link", name=re.compile("Continuar|Empezar la encuesta")).first.click()
    page.wait_for_url("**/page/**")
    assert page.locator("html").get_attribute("lang") == "es"
    assert english_left(page, "es") == []
    assert serious_violations(page) == []
    assert fits(page)
    page.locator("input[type=radio][data-autosave]").first.check()
    assert page.locator(".autosave-status").inner_text() in {"Guardando…", "Guardado."}
    shoot(page, "survey-es-390.png")
    assert tab.errors == []
