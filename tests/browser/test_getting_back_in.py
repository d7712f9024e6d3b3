"""Participants always get back in, on a phone (390 px) in real Chromium: the same
invitation link in a fresh browser, a reminder that keeps the first link alive, and a
protégé who signs in by emailed link, sets a password without an old one and uses it."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from playwright.sync_api import expect

from assessments.invitations import invitations_send, reminders_send
from assessments.models import Response, Wave
from relationships.models import Dyad, User
from tests.browser.conftest import Visit
from tests.browser.test_survey import answer_page, wait_saved

pytestmark = pytest.mark.browser
PHONE = 390


@pytest.fixture
def wave(transactional_db, live_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    cache.clear()
    call_command("seed_demo", "--dyads", "8", "--waves", "2", verbosity=0)
    dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
    return Wave.objects.get(cohort=dyad.cohort, number=2)


def links_to(email: str, pattern: str) -> list[str]:
    found = (re.search(pattern, m.body) for m in mail.outbox if m.to == [email])
    return [match.group(0) for match in found if match]


def open_invitation(browser, base_url: str, link: str) -> Visit:
    visit = Visit(browser, base_url, width=PHONE)
    visit.page.goto(link)
    visit.page.click("text=Continue to your survey")
    visit.page.wait_for_url("**/page/*/")
    return visit


def test_a_mentor_comes_back_through_the_same_link_and_a_protege_by_email(
    wave, chromium, live_server
):
    invitations_send(wave=wave)
    first = links_to("mentor@example.org", r"http://\S+/invite/\S+/")[0]

    # Half of page 1 in one browser, then the browser is closed.
    phone = open_invitation(chromium, live_server.url, first)
    assert phone.page.url.endswith("/page/1/")
    half = answer_page(phone.page, limit=9)
    wait_saved(phone.page)
    phone.context.close()
    dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
    assert Response.objects.get(dyad=dyad, wave=wave, role="mentor").answers.count() == half

    # The same emailed link in a fresh browser: back on page 1 with the answers in place.
    again = open_invitation(chromium, live_server.url, first)
    assert again.page.url.endswith("/page/1/")
    expect(again.page.locator("input[type=radio]:checked")).to_have_count(half)
    again.context.close()

    # A reminder: its link works, and so does the first one.
    reminders_send(wave=wave)
    reminder = links_to("mentor@example.org", r"http://\S+/invite/\S+/")[-1]
    for link in (reminder, first):
        visit = open_invitation(chromium, live_server.url, link)
        expect(visit.page.locator("input[type=radio]:checked")).to_have_count(half)
        assert visit.errors == []
        visit.context.close()

    # The protégé asks for a sign-in link on the sign-in page…
    protege = Visit(chromium, live_server.url, width=PHONE)
    protege.go("/accounts/login/")
    protege.page.click("text=Email me a sign-in link")
    protege.page.fill("input[name=email]", "protege@example.org")
    protege.page.click("main form button[type=submit]")
    expect(protege.page.locator("h1")).to_have_text("Check your email")
    link = links_to("protege@example.org", r"http://\S+/accounts/link/\S+/")[-1]
    protege.page.goto(link)
    protege.page.click("main form button[type=submit]")
    protege.page.wait_for_url("**/me/")

    # …sets a password without an old one…
    protege.go("/accounts/password/")
    assert protege.page.locator("input[name=old_password]").count() == 0
    password = "my-own-phrase-2026"
    protege.page.fill("input[name=new_password1]", password)
    protege.page.fill("input[name=new_password2]", password)
    protege.page.click("main form button[type=submit]")
    expect(protege.page.locator("[aria-live]")).to_contain_text("Your password is saved")

    # …signs out, and in again with it.
    protege.page.click("text=Sign out")
    protege.sign_in("protege@example.org", password)
    protege.page.wait_for_url("**/me/")
    user = User.objects.get(email="protege@example.org")
    assert user.check_password(password)
    assert protege.errors == []
