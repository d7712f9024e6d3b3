"""Once a response is submitted none of its answers changes: autosave answers 409 with a
sentence the page shows, a page post comes back with the reason, and a save that held a
response loaded before the submit is refused as well (it reads the status under the
row lock the submit takes)."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from assessments.models import Answer, DyadWaveResult, Item, Response, Wave
from assessments.survey.services import (
    ResponseSubmitted,
    answers_save,
    response_open,
    response_submit,
)
from relationships.models import Dyad

pytestmark = pytest.mark.django_db
REFUSAL = "Your answers were already submitted; nothing was changed."


@pytest.fixture
def submitted():
    """The demo mentor's wave-2 response, every item answered 2, submitted."""
    call_command("seed_demo", "--dyads", "2", "--waves", "2", verbosity=0)
    dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
    wave = Wave.objects.get(cohort=dyad.cohort, number=2)
    response = response_open(dyad=dyad, wave=wave, participant=dyad.mentor)
    items = Item.objects.filter(subscale__battery__instrument=wave.instrument)
    answers_save(response=response, values={i.code: "2" for i in items})
    return response_submit(response=response)


def answers(response: Response) -> list[tuple]:
    return sorted(Answer.objects.filter(response=response).values_list("item_id", "value"))


def results(response: Response) -> list[dict]:
    return list(DyadWaveResult.objects.filter(dyad=response.dyad).order_by("wave").values())


def url(name: str, response: Response, *extra) -> str:
    return reverse(f"assessments:{name}", args=[response.dyad.research_code, 2, *extra])


def test_an_autosave_after_submit_is_refused_with_409_and_changes_nothing(client, submitted):
    before, scored = answers(submitted), results(submitted)
    client.force_login(submitted.dyad.mentor.user)
    reply = client.post(url("survey_autosave", submitted), {"REL-LG-1": "6"})
    assert reply.status_code == 409
    assert reply.json() == {"saved": 0, "errors": [REFUSAL]}
    assert answers(submitted) == before and results(submitted) == scored


def test_a_save_holding_a_response_loaded_before_the_submit_is_refused(submitted):
    # What a racing autosave holds: the response as it was read before the submit.
    stale = Response.objects.get(pk=submitted.pk)
    stale.status, stale.submitted_at = Response.Status.DRAFT, None
    stale.wave, stale.dyad = submitted.wave, submitted.dyad
    before = answers(submitted)
    with pytest.raises(ResponseSubmitted) as refused:
        answers_save(response=stale, values={"REL-LG-1": "6"})
    assert refused.value.messages == [REFUSAL]
    assert answers(submitted) == before


def test_a_page_post_after_submit_comes_back_with_the_reason_and_changes_nothing(client, submitted):
    before = answers(submitted)
    client.force_login(submitted.dyad.mentor.user)
    page = url("survey_page", submitted, 1)
    reply = client.post(page, {"REL-LG-1": "6", "next": "1"}, follow=True)
    assert reply.redirect_chain == [(page, 302)]
    assert REFUSAL in reply.text and "shown read-only" in reply.text
    assert answers(submitted) == before


def test_a_submitted_survey_still_turns_its_pages(client, submitted):
    client.force_login(submitted.dyad.mentor.user)
    reply = client.post(url("survey_page", submitted, 1), {"next": "1"})
    assert reply.status_code == 302 and reply.url == url("survey_page", submitted, 2)
