"""A survey submitted in another tab: the next autosave is refused and the page says so."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from assessments.models import Item, Response, Wave
from assessments.survey.services import answers_save, response_submit
from relationships.models import Dyad
from tests.browser.conftest import Visit

pytestmark = pytest.mark.browser
REFUSAL = "Your answers were already submitted; nothing was changed."


def test_an_autosave_after_a_submit_elsewhere_shows_the_refusal(
    transactional_db, chromium, live_server
):
    call_command("seed_demo", "--dyads", "2", "--waves", "2", verbosity=0)
    dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
    wave = Wave.objects.get(cohort=dyad.cohort, number=2)
    visit = Visit(chromium, live_server.url)
    visit.sign_in("mentor@example.org", "continuum-demo")
    visit.go(reverse("assessments:survey_page", args=[dyad.research_code, 2, 1]))
    response = Response.objects.get(dyad=dyad, wave=wave, role="mentor")
    items = Item.objects.filter(subscale__battery__instrument=wave.instrument)
    answers_save(response=response, values={item.code: "2" for item in items})
    response_submit(response=response)  # what the other tab did

    visit.page.locator('input[type=radio][data-autosave][value="6"]').first.check()
    expect(visit.page.locator(".autosave-status")).to_have_text(REFUSAL)
    expect(visit.page.locator("input[type=radio][data-autosave]").first).to_be_disabled()
    assert set(response.answers.values_list("value", flat=True)) == {2}
    # Chromium logs the refused request itself (409); nothing else may go wrong.
    assert [error for error in visit.errors if "409" not in error] == []
