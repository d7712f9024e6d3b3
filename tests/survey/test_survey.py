"""The participant's survey: answers saved as they go, validated, submitted once."""

import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from assessments.models import Answer, DyadWaveResult, Item, Response, Wave
from relationships.models import Dyad

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", "--dyads", "8", "--waves", "2")
    dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
    wave = Wave.objects.get(cohort=dyad.cohort, number=2)
    return dyad, wave


@pytest.fixture
def mentor(client, demo):
    dyad, _ = demo
    client.force_login(dyad.mentor.user)
    return client


def url(name, dyad, wave, *extra):
    return reverse(f"assessments:{name}", args=[dyad.research_code, wave.number, *extra])


def items(wave):
    return list(
        Item.objects.filter(subscale__battery__instrument=wave.instrument)
        .select_related("subscale__battery")
        .order_by("subscale__battery__order", "subscale__order", "order")
    )


def answer_all(client, dyad, wave, value="5"):
    values = {
        i.code: (value if i.subscale.battery.scale_max >= int(value) else "1") for i in items(wave)
    }
    assert client.post(url("survey_autosave", dyad, wave), values).status_code == 200


def test_home_lists_the_dyad_with_the_partner_and_the_open_wave(mentor, demo):
    dyad, wave = demo
    page = mentor.get(reverse("assessments:home")).text
    assert str(dyad.protege) in page
    assert url("survey", dyad, wave) in page


def test_the_survey_starts_on_the_first_page_in_the_mentor_wording(mentor, demo):
    dyad, wave = demo
    first = mentor.get(url("survey", dyad, wave))
    assert first.url == url("survey_page", dyad, wave, 1)
    page = mentor.get(first.url).text
    assert items(wave)[0].text_mentor in page
    assert "Not applicable" in page and "<legend" in page


def test_autosave_stores_an_answer_and_resume_finds_the_first_unanswered_page(mentor, demo):
    dyad, wave = demo
    rel = [i for i in items(wave) if i.subscale.battery.code == "REL"]
    reply = mentor.post(url("survey_autosave", dyad, wave), {i.code: "6" for i in rel})
    assert reply.json() == {"saved": len(rel)}
    assert mentor.get(url("survey", dyad, wave)).url == url("survey_page", dyad, wave, 2)
    page = mentor.get(url("survey_page", dyad, wave, 1)).text
    assert re.search(rf'name="{rel[0].code}" value="6"[^>]*checked', page)
    response = Response.objects.get(dyad=dyad, wave=wave, role="mentor")
    assert set(response.answers.values_list("value", flat=True)) == {6}


@pytest.mark.parametrize(
    "value",
    ["8", "0", "-1", "abc", "5.5", "", "na-but-not", "9999999999999999999", "٣", "3\x00"],
)
def test_bad_values_are_rejected_and_change_nothing(mentor, demo, value):
    dyad, wave = demo
    first, second = items(wave)[:2]
    mentor.post(url("survey_autosave", dyad, wave), {first.code: "4"})
    reply = mentor.post(url("survey_autosave", dyad, wave), {first.code: "3", second.code: value})
    assert reply.status_code == 400
    assert list(
        Answer.objects.filter(response__dyad=dyad, response__wave=wave).values_list(
            "value", flat=True
        )
    ) == [4]


@pytest.mark.parametrize("name", ["REL-XX-9", "\x00", "REL-LG-1\x00"])
def test_unknown_items_are_rejected(mentor, demo, name):
    dyad, wave = demo
    reply = mentor.post(url("survey_autosave", dyad, wave), {name: "3"})
    assert reply.status_code == 400 and "not a question" in reply.json()["errors"][0]
    assert not Answer.objects.filter(response__dyad=dyad).filter(response__wave=wave).exists()


def test_not_applicable_only_where_allowed(mentor, demo):
    dyad, wave = demo
    strain = next(i for i in items(wave) if i.subscale.battery.code == "STR")
    assert mentor.post(url("survey_autosave", dyad, wave), {strain.code: "na"}).status_code == 400
    rel = items(wave)[0]
    assert mentor.post(url("survey_autosave", dyad, wave), {rel.code: "na"}).status_code == 200
    assert Answer.objects.get(item=rel, response__wave=wave, response__dyad=dyad).value is None


def test_submitting_with_gaps_lists_every_missing_item_with_a_link(mentor, demo):
    dyad, wave = demo
    mentor.post(url("survey_autosave", dyad, wave), {items(wave)[0].code: "5"})
    page = mentor.post(url("survey_review", dyad, wave)).text
    assert f"#div_id_{items(wave)[1].code}" in page
    assert f"{len(items(wave)) - 1} questions still need an answer" in page
    assert not Response.objects.filter(dyad=dyad, wave=wave, status="submitted").exists()


def test_submit_locks_the_response_and_a_second_submit_changes_nothing(mentor, demo):
    dyad, wave = demo
    answer_all(mentor, dyad, wave)
    assert mentor.post(url("survey_review", dyad, wave)).url == url("results", dyad, wave)
    response = Response.objects.get(dyad=dyad, wave=wave, role="mentor")
    submitted_at = response.submitted_at
    mentor.post(url("survey_review", dyad, wave))
    response.refresh_from_db()
    assert response.status == "submitted" and response.submitted_at == submitted_at
    late = mentor.post(url("survey_autosave", dyad, wave), {items(wave)[0].code: "1"})
    assert late.status_code == 409 and "submitted" in late.json()["errors"][0]


def test_results_wait_for_the_partner_then_show_the_placement(client, demo):
    dyad, wave = demo
    client.force_login(dyad.mentor.user)
    answer_all(client, dyad, wave, "6")
    client.post(url("survey_review", dyad, wave))
    assert "Waiting for your partner" in client.get(url("results", dyad, wave)).text
    client.force_login(dyad.protege.user)
    answer_all(client, dyad, wave, "6")
    client.post(url("survey_review", dyad, wave))
    result = DyadWaveResult.objects.get(dyad=dyad, wave=wave)
    assert result.mentor_submitted and result.protege_submitted
    page = client.get(url("results", dyad, wave)).text
    assert "Three things to try next" in page and "Your relational profile" in page


def test_a_closed_wave_refuses_answers_with_a_clear_message(mentor, demo):
    dyad, wave = demo
    past = Wave.objects.get(cohort=dyad.cohort, number=1)
    closed = Wave.objects.create(
        cohort=dyad.cohort,
        number=3,
        opens_at=past.opens_at,
        closes_at=past.closes_at,
        instrument=wave.instrument,
    )
    refused = mentor.get(url("survey", dyad, closed))
    assert refused.status_code == 403 and "This survey is closed" in refused.text
    mentor.post(url("survey_autosave", dyad, wave), {items(wave)[0].code: "5"})
    Wave.objects.filter(pk=wave.pk).update(
        closes_at=wave.opens_at.replace(year=2000), opens_at=wave.opens_at.replace(year=1999)
    )
    reply = mentor.post(url("survey_autosave", dyad, wave), {items(wave)[0].code: "2"})
    assert reply.status_code == 409 and "closed" in reply.json()["errors"][0]


@pytest.mark.parametrize("name", ["survey", "results"])
def test_a_participant_of_another_dyad_gets_404(client, demo, name):
    dyad, wave = demo
    other = Dyad.objects.exclude(pk=dyad.pk).first()
    client.force_login(other.mentor.user if other.mentor.user else other.protege.user)
    assert client.get(url(name, dyad, wave)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, demo):
    dyad, wave = demo
    reply = client.get(url("survey", dyad, wave))
    assert reply.status_code == 302 and reply.url.startswith("/accounts/login/")


def test_the_survey_page_and_autosave_use_a_fixed_number_of_queries(
    mentor, demo, django_assert_max_num_queries
):
    dyad, wave = demo
    with django_assert_max_num_queries(20):
        mentor.get(url("survey_page", dyad, wave, 1))
    few = {i.code: "3" for i in items(wave)[:2]}
    many = {i.code: "3" for i in items(wave)[:40]}
    with django_assert_max_num_queries(12):
        mentor.post(url("survey_autosave", dyad, wave), few)
    with django_assert_max_num_queries(12):
        mentor.post(url("survey_autosave", dyad, wave), many)
    assert json.loads(mentor.post(url("survey_autosave", dyad, wave), many).content)["saved"] == 40


def test_staff_may_view_either_side_of_a_results_page(client, demo):
    from relationships.models import User

    dyad, _ = demo
    first = Wave.objects.get(cohort=dyad.cohort, number=1)
    client.force_login(User.objects.get(email="admin@example.org"))
    assert client.get(url("results", dyad, first)).status_code == 200
    assert client.get(url("results", dyad, first) + "?role=protege").status_code == 200


def test_a_coordinator_gets_404_on_a_participant_results_page(client, demo):
    from relationships.models import User

    dyad, _ = demo
    first = Wave.objects.get(cohort=dyad.cohort, number=1)
    client.force_login(User.objects.get(email="coordinator@example.org"))
    assert client.get(url("results", dyad, first)).status_code == 404
