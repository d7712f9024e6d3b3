"""The results page: KRAM also as percent of maximum possible (DESIGN §4.1) and the
participant's own reliable change since the previous placed wave (DESIGN §4.4)."""

import pytest
from django.urls import reverse

from assessments.models import DyadWaveResult
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def waves(cast):
    instrument = factories.InstrumentFactory()
    for order, code in enumerate(("REL", "CAR", "PSY", "STR")):
        scale_max = 5 if code == "STR" else 7
        factories.BatteryFactory(instrument=instrument, code=code, order=order, scale_max=scale_max)
    return [
        factories.WaveFactory(cohort=cast.cohort, instrument=instrument, number=number)
        for number in (1, 2)
    ]


def placed(dyad, wave, **scores) -> DyadWaveResult:
    return DyadWaveResult.objects.create(
        dyad=dyad,
        wave=wave,
        mentor_submitted=True,
        protege_submitted=True,
        state="traditional",
        rule_version="continuum-v1",
        **scores,
    )


def results_page(client, cast, wave, person=None) -> str:
    client.force_login((person or cast.mentor).user)
    url = reverse("assessments:results", args=[cast.dyad.research_code, wave.number])
    reply = client.get(url)
    assert reply.status_code == 200
    return reply.text


def test_own_kram_is_shown_as_percent_of_maximum_possible(client, cast, waves):
    placed(cast.dyad, waves[0], kram_mentor=6.1, kram_protege=2.5)
    page = results_page(client, cast, waves[0])
    # (6.1 − 1) / (7 − 1) · 100 = 85
    assert "6.1 on the 1–7 scale, that is 85 % of the maximum possible" in page


def test_the_partners_kram_stays_private_unless_the_program_shares_scores(client, cast, waves):
    placed(cast.dyad, waves[0], kram_mentor=6.1, kram_protege=2.5)
    assert "Your partner: 2.5" not in results_page(client, cast, waves[0])
    cast.program.share_partner_scores = True
    cast.program.save(update_fields=["share_partner_scores"])
    # (2.5 − 1) / 6 · 100 = 25
    assert "Your partner: 2.5 (25 %)" in results_page(client, cast, waves[0])


@pytest.mark.parametrize(("now", "direction"), [(5.2, "up"), (2.8, "down")])
def test_an_own_change_of_1_2_points_is_reliable(client, cast, waves, now, direction):
    placed(cast.dyad, waves[0], rel_mentor=4.0, rel_protege=4.0)
    placed(cast.dyad, waves[1], rel_mentor=now, rel_protege=4.0)
    page = results_page(client, cast, waves[1])
    assert f"changed reliably since Wave 1: {direction} by 1.20 points" in page


def test_an_own_change_of_half_a_point_stays_within_measurement_error(client, cast, waves):
    placed(cast.dyad, waves[0], rel_mentor=4.0, rel_protege=3.0)
    placed(cast.dyad, waves[1], rel_mentor=4.5, rel_protege=6.0)
    page = results_page(client, cast, waves[1])
    assert "stayed within measurement error since Wave 1" in page
    assert "changed reliably" not in page and "3.00 points" not in page


def test_the_protege_reads_their_own_change_not_the_mentors(client, cast, waves):
    placed(cast.dyad, waves[0], rel_mentor=4.0, rel_protege=3.0)
    placed(cast.dyad, waves[1], rel_mentor=4.5, rel_protege=6.0)
    page = results_page(client, cast, waves[1], person=cast.protege)
    assert "changed reliably since Wave 1: up by 3.00 points" in page


def test_the_programs_own_bound_decides_what_is_reliable(client, cast, waves):
    cast.program.placement_overrides = {"reliable_change_respondent": 0.4}
    cast.program.save(update_fields=["placement_overrides"])
    placed(cast.dyad, waves[0], rel_mentor=4.0)
    placed(cast.dyad, waves[1], rel_mentor=4.5)
    page = results_page(client, cast, waves[1])
    assert "changed reliably since Wave 1: up by 0.50 points" in page


def test_a_first_placement_says_nothing_about_own_change(client, cast, waves):
    placed(cast.dyad, waves[1], rel_mentor=5.2)
    page = results_page(client, cast, waves[1])
    assert "Your own view" not in page


def test_the_results_page_uses_a_fixed_number_of_queries(
    client, cast, waves, django_assert_max_num_queries
):
    placed(cast.dyad, waves[0], rel_mentor=4.0, kram_mentor=5.0)
    placed(cast.dyad, waves[1], rel_mentor=5.2, kram_mentor=5.5)
    client.force_login(cast.mentor.user)
    url = reverse("assessments:results", args=[cast.dyad.research_code, 2])
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
