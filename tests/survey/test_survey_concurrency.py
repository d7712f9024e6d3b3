"""Two submits of one response at the same moment (two tabs) leave one submission."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection

from assessments.models import DyadWaveResult, Item, Response, Wave
from assessments.survey.services import answers_save, response_open, response_submit
from relationships.models import Dyad


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are exercised on PostgreSQL"
)
def test_two_concurrent_submits_produce_one_submitted_response():
    call_command("seed_demo", "--dyads", "2", "--waves", "2", verbosity=0)
    dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
    wave = Wave.objects.get(cohort=dyad.cohort, number=2)
    response = response_open(dyad=dyad, wave=wave, participant=dyad.mentor)
    codes = Item.objects.filter(subscale__battery__instrument=wave.instrument)
    answers_save(response=response, values={i.code: "2" for i in codes})
    start, outcomes = threading.Barrier(2), []

    def submit() -> None:
        start.wait()
        try:
            outcomes.append(response_submit(response=response).submitted_at)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = Response.objects.get(pk=response.pk)
    assert stored.status == "submitted"
    assert outcomes == [stored.submitted_at, stored.submitted_at]
    assert DyadWaveResult.objects.get(dyad=dyad, wave=wave).mentor_submitted
