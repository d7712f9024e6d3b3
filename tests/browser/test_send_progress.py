"""A coordinator on a phone (390 px) in real Chromium: from Manage to the send's
confirmation, a confirmed send, and its progress page following the worker until
everything is sent, under the Content-Security-Policy and without serious
accessibility problems."""

import pytest
from django.core import mail
from django.core.management import call_command

from delivery.models import Delivery
from tests.browser.conftest import Visit, serious_violations
from tests.browser.test_csp import COLLECT
from tests.delivery.conftest import run_worker

pytestmark = pytest.mark.browser

PHONE = 390


@pytest.fixture
def demo(transactional_db, settings):
    """The seeded demo, with sends stored for a worker rather than run in the request."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    call_command("seed_demo", "--dyads", "6", "--waves", "2", verbosity=0)


def fits_the_phone(tab: Visit) -> bool:
    return tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE


def test_confirm_then_follow_the_send_until_it_is_sent(demo, chromium, live_server):
    tab = Visit(chromium, live_server.url, width=PHONE)
    tab.context.add_init_script(COLLECT)
    tab.sign_in("coordinator@example.org", "continuum-demo")
    tab.go("/coordinate/demo/2026/manage/")
    tab.page.get_by_role("link", name="Send invitations or reminders for Wave 2").click()
    tab.page.wait_for_load_state()
    assert tab.page.url.endswith("/coordinate/demo/2026/manage/waves/2/send/")
    assert fits_the_phone(tab) and serious_violations(tab.page) == []
    button = tab.page.locator("[data-confirm-send=not_submitted]")
    expected = int(button.inner_text().split()[1])
    assert expected > 0
    button.click()
    tab.page.wait_for_load_state()
    assert "/manage/sends/" in tab.page.url
    status = tab.page.get_by_role("status").filter(has_text="Preparing the emails")
    assert status.is_visible() and not mail.outbox
    assert fits_the_phone(tab) and serious_violations(tab.page) == []
    run_worker()  # the page's script notices on its own
    tab.page.get_by_text("Done: nothing is waiting any more.").wait_for(timeout=15_000)
    sent = Delivery.objects.filter(status=Delivery.Status.SENT).count()
    assert tab.page.locator("[data-count=sent]").inner_text() == str(expected) == str(sent)
    assert len(mail.outbox) == expected
    assert tab.page.evaluate("window.__violations") == [] and tab.errors == []


def test_the_email_pages_fit_a_phone_under_the_policy(demo, chromium, live_server):
    tab = Visit(chromium, live_server.url, width=PHONE)
    tab.context.add_init_script(COLLECT)
    tab.sign_in("coordinator@example.org", "continuum-demo")
    for tail in ("messages/", "messages/invitation/", "schedule/", "notices/", "failed/"):
        assert tab.go(f"/coordinate/demo/email/{tail}").status == 200, tail
        assert fits_the_phone(tab), tail
        assert serious_violations(tab.page) == [], tail
    tab.page.get_by_role("link", name="Wording").click()
    tab.page.get_by_role("link", name="Reminder").click()
    tab.page.get_by_label("Subject").fill("Still time, {name}: {program}")
    tab.page.get_by_role("button", name="Preview without saving").click()
    assert tab.page.get_by_text("Still time, Alex Example: Demo mentoring program").is_visible()
    assert tab.page.evaluate("window.__violations") == [] and tab.errors == []
