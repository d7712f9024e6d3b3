"""Mentor and protégé do their whole part in real Chromium: link, survey, resume, results.

With ``CONTINUUM_SCREENSHOTS=1`` the journey saves survey and results screenshots at
1280 and 390 px into docs/screenshots/.
"""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from assessments.invitations import invitations_send
from assessments.models import Response, Wave
from relationships.models import Dyad
from tests.browser.conftest import Visit, serious_violations, shoot

pytestmark = pytest.mark.browser


@pytest.fixture
def journey(transactional_db, live_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    call_command("seed_demo", "--dyads", "8", "--waves", "2", verbosity=0)
    dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
    wave = Wave.objects.get(cohort=dyad.cohort, number=2)
    invitations_send(wave=wave)
    return dyad, wave


def link_of(email: str) -> str:
    message = next(m for m in mail.outbox if m.to == [email])
    return re.search(r"http://\S+/invite/\S+/", message.body).group(0)


def answer_page(page, limit: int | None = None) -> int:
    names = page.eval_on_selector_all(
        "input[type=radio][data-autosave]",
        "els => [...new Set(els.map(e => e.name))].filter("
        "n => !els.some(e => e.name === n && e.checked))",
    )
    for name in names[:limit]:
        choice = page.locator(f'input[name="{name}"][value="6"]')
        if not choice.count():
            choice = page.locator(f'input[name="{name}"][value="2"]')
        choice.check()
    return len(names[:limit])


def wait_saved(page) -> None:
    # a locator, not wait_for_function: the page's CSP forbids the eval that one needs
    expect(page.locator(".autosave-status")).to_have_text("Saved.")


def finish_survey(page, shots: str | None = None) -> None:
    while True:
        if answer_page(page):
            wait_saved(page)
        if page.locator("button[name=review]").count():
            page.click("button[name=review]")
            break
        page.click("button[name=next]")
    page.click("text=Submit my answers")
    page.wait_for_url("**/me/results/**")


def test_both_partners_answer_resume_submit_and_see_results(journey, chromium, live_server):
    dyad, wave = journey
    mentor = Visit(chromium, live_server.url)
    mentor.page.goto(link_of("mentor@example.org"))
    mentor.page.click("text=Continue to your survey")
    mentor.page.wait_for_url("**/page/1/")
    assert serious_violations(mentor.page) == []
    half = answer_page(mentor.page)
    wait_saved(mentor.page)
    mentor.page.click("button[name=next]")
    mentor.page.wait_for_url("**/page/2/")
    half += answer_page(mentor.page, limit=9)
    wait_saved(mentor.page)
    mentor.context.close()  # the tab is closed half-way through the survey

    saved = Response.objects.get(dyad=dyad, wave=wave, role="mentor").answers.count()
    assert saved == half == 27

    again = Visit(chromium, live_server.url)
    again.sign_in("mentor@example.org", "continuum-demo")
    again.go("/me/")
    assert serious_violations(again.page) == []
    again.page.click("text=Continue (")
    again.page.wait_for_url("**/page/2/")  # resumes on the first unanswered page
    assert again.page.locator("input[type=radio]:checked").count() == 9
    again.page.click("button[name=previous]")
    again.page.wait_for_url("**/page/1/")
    assert again.page.locator("input[type=radio]:checked").count() == 18
    shoot(again.page, "survey-1280.png")
    finish_survey(again.page)
    assert "Waiting for your partner" in again.page.content()

    protege = Visit(chromium, live_server.url, width=390)
    protege.page.goto(link_of("protege@example.org"))
    protege.page.click("text=Continue to your survey")
    protege.page.wait_for_url("**/page/1/")
    shoot(protege.page, "survey-390.png")
    finish_survey(protege.page)
    assert "Three things to try next" in protege.page.content()
    shoot(protege.page, "results-390.png")
    assert serious_violations(protege.page) == []

    again.page.reload()
    assert "Where you are on the continuum" in again.page.content()
    shoot(again.page, "results-1280.png")
    assert again.errors == [] and protege.errors == []


def test_a_participant_of_another_dyad_gets_404_on_the_results(journey, chromium, live_server):
    dyad, wave = journey
    other = Dyad.objects.exclude(pk=dyad.pk).first().mentor.user
    other.set_password("another-secret-9")
    other.save()
    outsider = Visit(chromium, live_server.url)
    outsider.sign_in(other.email, "another-secret-9")
    reply = outsider.go(f"/me/results/{dyad.research_code}/{wave.number}/")
    assert reply.status == 404
