"""The psychometrics page (DESIGN §4.5): group statistics of one wave under the program's
own constants, small groups suppressed, never an answer shown."""

import pytest
from django.utils import timezone

from assessments.models import Wave
from tests import factories
from tests.coordinate.builders import add_dyads, cohort_url
from tests.coordinate.test_actions import declining  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(cast):
    """Wave 1 of a three-item subscale answered by ``n`` dyads (both partners); the
    mentors of the first ``skipped`` dyads leave the third item out."""

    def build(n: int, skipped: int = 0) -> Wave:
        subscale = factories.SubscaleFactory(battery__code="REL", code="REL-TC", title="Trust")
        items = [factories.ItemFactory(subscale=subscale, code=f"REL-TC-{i}") for i in (1, 2, 3)]
        wave = factories.WaveFactory(
            cohort=cast.cohort, number=1, instrument=subscale.battery.instrument
        )
        for index, dyad in enumerate(add_dyads(cast.cohort, n)):
            for role, person in (("mentor", dyad.mentor), ("protege", dyad.protege)):
                response = factories.ResponseFactory(
                    wave=wave,
                    dyad=dyad,
                    role=role,
                    respondent=person,
                    status="submitted",
                    submitted_at=timezone.now(),
                )
                shown = items[:2] if role == "mentor" and index < skipped else items
                for offset, item in enumerate(shown):
                    value = 1 + (index + offset + (role == "protege")) % 7
                    factories.AnswerFactory(response=response, item=item, value=value)
        return wave

    return build


def psychometrics_page(client, cast):
    client.force_login(cast.coordinator)
    response = client.get(cohort_url(cast, "psychometrics/"))
    assert response.status_code == 200
    return response


def rows_by_role(response) -> dict[str, dict]:
    return {row["role"]: row for row in response.context["stats"].subscales}


def test_psychometrics_suppress_groups_of_fewer_than_five(client, cast, answered):
    answered(3)
    response = psychometrics_page(client, cast)
    rows = response.context["stats"].subscales
    assert [(row["role"], row["suppressed"]) for row in rows] == [
        ("Mentors", True),
        ("Protégés", True),
    ]
    page = response.content.decode()
    assert "fewer than 5" in page
    assert all(row["mean"] == "–" for row in rows)


def test_psychometrics_report_n_mean_sd_and_alpha_without_any_answer(client, cast, answered):
    answered(6)
    response = psychometrics_page(client, cast)
    mentors = response.context["stats"].subscales[0]
    assert (mentors["title"], mentors["n"], mentors["suppressed"]) == ("Trust", 6, False)
    assert mentors["mean"] != "–" and mentors["alpha"] != "–"
    assert mentors["missing"] == "0 %"
    assert "REL-TC-1" not in response.content.decode()


def test_psychometrics_follow_the_programs_minimum_of_answered_items(client, cast, answered):
    answered(6, skipped=1)
    default = rows_by_role(psychometrics_page(client, cast))["Mentors"]
    cast.program.placement_overrides = {"min_answered_floor": 3}
    cast.program.save()
    strict = rows_by_role(psychometrics_page(client, cast))["Mentors"]
    assert (default["n"], strict["n"]) == (6, 5)  # two of three items no longer suffice
    assert default["mean"] != strict["mean"]


def test_psychometrics_show_the_complete_cases_behind_alpha_and_hide_it_below_five(
    client, cast, answered
):
    answered(6, skipped=2)
    response = psychometrics_page(client, cast)
    rows = rows_by_role(response)
    mentors, proteges = rows["Mentors"], rows["Protégés"]
    assert (mentors["n"], mentors["suppressed"], mentors["alpha_n"]) == (6, False, 4)
    assert mentors["alpha"] == "–" and mentors["mean"] != "–"
    assert (proteges["alpha_n"], proteges["alpha"] != "–") == (6, True)
    page = response.content.decode()
    assert 'data-alpha-n="4"' in page and 'data-alpha-n="6"' in page
    assert "answered every item" in page


def test_partner_agreement_is_read_from_the_stored_results(client, cast, declining):  # noqa: F811
    response = psychometrics_page(client, cast)
    agreement = {row["battery"]: row for row in response.context["stats"].agreement}
    assert set(agreement) == {"REL", "CAR", "PSY", "STR", "OVR", "KRAM"}
    assert agreement["REL"]["n"] == 1 and agreement["REL"]["suppressed"]
