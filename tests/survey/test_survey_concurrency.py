"""Requests for one response at the same moment: two submits (two tabs) leave one
submission, and autosaves racing a submit never change submitted answers or leave a
stored result that differs from a recomputation."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from assessments.models import Answer, DyadWaveResult, Item, Response, Wave
from assessments.services import results_recompute
from assessments.survey.services import answers_save, response_open, response_submit
from relationships.models import Dyad
from tests.test_live_server import RESULT_FIELDS, drafts_ready_to_submit

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are exercised on PostgreSQL"
)
AUTOSAVES_PER_SUBMIT = 4


@on_postgresql
@pytest.mark.django_db(transaction=True)
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


def changed_answers(wave: Wave, response: Response) -> list[dict[str, str]]:
    """One autosave body per racing request: a REL item moved to another point of its
    scale, so an autosave that slipped past the submit would change the mentor's REL."""
    stored = dict(response.answers.values_list("item__code", "value"))
    rel = Item.objects.filter(
        subscale__battery__instrument=wave.instrument, subscale__battery__code="REL"
    ).select_related("subscale__battery")
    bodies = []
    for item in list(rel.order_by("subscale__order", "order"))[:AUTOSAVES_PER_SUBMIT]:
        battery = item.subscale.battery
        other = battery.scale_max if stored[item.code] != battery.scale_max else battery.scale_min
        bodies.append({item.code: str(other)})
    return bodies


def race(jobs: list[tuple[Client, str, dict[str, str]]]) -> list[tuple[int, dict]]:
    """POST every job at one moment (a barrier), each thread on its own connection."""
    start, replies = threading.Barrier(len(jobs)), [None] * len(jobs)

    def post(index: int) -> None:
        client, path, body = jobs[index]
        start.wait()
        try:
            reply = client.post(path, body)
            is_json = reply.get("Content-Type", "").startswith("application/json")
            replies[index] = (reply.status_code, reply.json() if is_json else {})
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return replies


def stored_results(wave: Wave) -> list[dict]:
    results = DyadWaveResult.objects.filter(wave=wave).order_by("dyad")
    return list(results.values(*RESULT_FIELDS, "subscales", "kram_mentor", "kram_protege"))


def racing_jobs(wave: Wave, people) -> tuple[list, list]:
    """Per mentor: one submit and ``AUTOSAVES_PER_SUBMIT`` autosaves, each from its own
    signed-in client; and, per autosave, the response and the (item, value) it sends."""
    jobs, sent = [], []
    for dyad, role, user in people:
        if role != "mentor":
            continue
        response = Response.objects.get(dyad=dyad, wave=wave, role="mentor")
        args = [dyad.research_code, wave.number]
        jobs.append((signed_in(user), reverse("assessments:survey_review", args=args), {}))
        for body in changed_answers(wave, response):
            path = reverse("assessments:survey_autosave", args=args)
            jobs.append((signed_in(user), path, body))
            sent.append((response, *body.items()))
    return jobs, sent


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_autosaves_racing_a_submit_never_change_submitted_answers_or_scores():
    wave, people = drafts_ready_to_submit(10)
    for dyad, role, _user in people:
        if role == "protege":
            response_submit(response=Response.objects.get(dyad=dyad, wave=wave, role=role))
    jobs, sent = racing_jobs(wave, people)
    replies = {"submit": [], "autosave": []}
    for (_, path, _), reply in zip(jobs, race(jobs), strict=True):
        replies["autosave" if "autosave" in path else "submit"].append(reply)

    assert [status for status, _ in replies["submit"]] == [302] * 10
    for (response, (code, value)), (status, data) in zip(sent, replies["autosave"], strict=True):
        stored = Answer.objects.get(response=response, item__code=code).value
        if status == 409:  # refused after the submit: the answer stays as submitted
            assert data["errors"] == ["Your answers were already submitted; nothing was changed."]
            assert stored != int(value)
        else:  # saved before the submit, so the submit scored it
            assert status == 200 and stored == int(value), (status, data)
    for response in Response.objects.filter(wave=wave, role="mentor"):
        assert response.status == "submitted"
        assert not response.answers.filter(answered_at__gt=response.submitted_at).exists()
    stored = stored_results(wave)
    assert len(stored) == 10
    assert all(result["mentor_submitted"] and result["protege_submitted"] for result in stored)
    results_recompute(cohort=wave.cohort)  # from the final answers, in this process
    assert stored_results(wave) == stored
