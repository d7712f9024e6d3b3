"""`seed_demo` builds a believable program once; running it again changes nothing."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Answer, DyadWaveResult, Invitation, Response, Wave
from assessments.services import results_recompute
from relationships.models import Cohort, Dyad, Participant, User

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "users": sorted(User.objects.values_list("email", "password")),
        "dyads": sorted(Dyad.objects.values_list("research_code", "mentor_id", "protege_id")),
        "waves": sorted(Wave.objects.values_list("number", "opens_at", "closes_at")),
        "responses": sorted(Response.objects.values_list("id", "status", "submitted_at")),
        "answers": Answer.objects.count(),
        "results": sorted(DyadWaveResult.objects.values_list("id", "state", "computed_at")),
    }


@pytest.fixture
def demo(settings):
    call_command("seed_demo", "--dyads", "16", "--waves", "3")
    return Cohort.objects.get(program__slug="demo", slug="2026")


def test_seeding_twice_changes_nothing(demo):
    before = snapshot()
    call_command("seed_demo", "--dyads", "16", "--waves", "3")
    assert snapshot() == before


def test_the_demo_has_the_requested_size(demo):
    assert demo.dyads.count() == 16 and demo.waves.count() == 3
    assert DyadWaveResult.objects.count() == 16 * 3
    assert Participant.objects.count() == 32


def test_the_demo_logins_work(demo, client):
    for email in ("admin@example.org", "coordinator@example.org", "mentor@example.org"):
        client.logout()
        response = client.post(reverse("login"), {"username": email, "password": "continuum-demo"})
        assert response.status_code == 302 and "_auth_user_id" in client.session, email
    assert demo.program.coordinators.filter(email="coordinator@example.org").exists()


def test_the_demo_dyad_leaves_the_open_wave_to_the_demo_users(demo):
    dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
    assert dyad.protege.user.email == "protege@example.org"
    last = demo.waves.order_by("number").last()
    assert last.is_open()
    assert not Response.objects.filter(dyad=dyad, wave=last).exists()
    assert Response.objects.filter(dyad=dyad, status="submitted").count() == 4


def test_the_demo_shows_every_kind_of_trajectory(demo):
    results = DyadWaveResult.objects.filter(wave__number__lt=3)
    states = set(results.values_list("state", flat=True))
    assert {"dysfunctional", "traditional", "relational"} <= states
    assert results.filter(strain_reported=True).exists()
    assert results.filter(awaiting_partner=True).exists()
    assert DyadWaveResult.objects.filter(transition="down").exists()
    assert DyadWaveResult.objects.filter(transition="up").exists()


def test_recompute_reads_and_writes_a_cohort_with_a_constant_number_of_queries(demo):
    def queries() -> int:
        cohort = Cohort.objects.get(pk=demo.pk)
        with CaptureQueriesContext(connection) as captured:
            results_recompute(cohort=cohort)
        return len(captured)

    small = queries()
    call_command("seed_demo", "--dyads", "40", "--waves", "3")
    assert Dyad.objects.count() == 40
    # per chunk of RECOMPUTE_CHUNK dyads: reads, then the write (one statement, or on
    # PostgreSQL a savepoint with create, copy, upsert and drop of a temporary table);
    # then the rebuild of the cohort's aggregates, a fixed number of statements
    assert queries() == small <= 19


def test_another_cohort_gets_its_own_people_and_no_demo_logins(db):
    call_command("seed_demo", "--dyads", "3", "--waves", "2", "--cohort", "scale", verbosity=0)
    cohort = Cohort.objects.get(program__slug="demo", slug="scale")
    emails = set(cohort.dyads.values_list("mentor__user__email", flat=True))
    assert len(emails) == 3 and all("-scale-" in e for e in emails)
    assert not User.objects.filter(email="mentor@example.org").exists()
    assert DyadWaveResult.objects.filter(wave__cohort=cohort).count() == 3 * 2


def test_a_cohort_that_is_not_a_slug_is_refused(db):
    with pytest.raises(CommandError, match="must be a slug"):
        call_command("seed_demo", "--cohort", "Big Cohort", verbosity=0)


def test_the_demo_cohort_and_its_dyads_start_before_the_first_wave(demo):
    first = demo.waves.order_by("number").first()
    assert demo.started_on < first.opens_at.date()
    assert not demo.dyads.filter(started_on__gt=demo.started_on).exists()


def test_a_demo_made_with_a_start_of_today_is_moved_before_its_first_wave(demo):
    today = demo.waves.order_by("number").last().closes_at.date()
    Cohort.objects.filter(pk=demo.pk).update(started_on=today)
    demo.dyads.update(started_on=today)
    call_command("seed_demo", "--dyads", "16", "--waves", "3")
    demo.refresh_from_db()
    assert demo.started_on < demo.waves.order_by("number").first().opens_at.date()
    assert set(demo.dyads.values_list("started_on", flat=True)) == {demo.started_on}


def test_everyone_who_answered_a_closed_wave_was_invited_and_the_open_wave_is_left_to_invite(
    demo,
):
    for wave in demo.waves.all():
        submitted = Response.objects.submitted().filter(wave=wave)
        invited = Invitation.objects.filter(wave=wave, sent_at__isnull=False)
        pairs = set(submitted.values_list("dyad_id", "respondent_id"))
        assert pairs <= set(invited.values_list("dyad_id", "participant_id"))
        assert invited.count() >= submitted.count() > 0
    open_wave = demo.waves.order_by("number").last()
    drafts = Response.objects.filter(wave=open_wave, status=Response.Status.DRAFT)
    assert drafts.exists()
    assert not Invitation.objects.filter(
        wave=open_wave, participant_id__in=drafts.values("respondent_id")
    ).exists()
