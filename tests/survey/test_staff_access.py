"""Staff status alone opens no survey, result or dashboard; named permissions do (DESIGN §7).

``assessments.view_answers`` reads any dyad's survey and results read-only;
``assessments.coordinate_all_programs`` coordinates every program. Superusers hold both.
"""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from assessments.models import Answer, Response
from relationships.models import User
from tests.test_permissions import staff_user, user_of

pytestmark = pytest.mark.django_db

CHOSEN = re.compile(r'<input(?=[^>]*type="radio")[^>]*checked')


def granted(user: User, codename: str) -> User:
    """``user`` holding the named assessments permission, freshly loaded (no stale cache)."""
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="assessments", codename=codename)
    )
    return User.objects.get(pk=user.pk)


def survey_page(world, role: str) -> str:
    page = reverse("assessments:survey_page", args=[world["dyad"].research_code, 2, 1])
    return f"{page}?role={role}"


def results(world, role: str) -> str:
    page = reverse("assessments:results", args=[world["dyad"].research_code, 1])
    return f"{page}?role={role}"


def test_staff_without_a_permission_read_no_answers_and_no_names(client, world, answered):
    client.force_login(staff_user())
    for role in ("mentor", "protege"):
        survey = client.get(survey_page(world, role))
        assert survey.status_code == 404 and not CHOSEN.search(survey.text)
        result = client.get(results(world, role))
        assert result.status_code == 404
        assert world["dyad"].mentor.name not in result.text
        assert world["dyad"].protege.name not in result.text


def test_staff_with_the_answers_permission_view_a_survey_read_only(client, world, answered):
    client.force_login(granted(staff_user(), "view_answers"))
    shown = client.get(survey_page(world, "mentor"))
    assert shown.status_code == 200 and len(CHOSEN.findall(shown.text)) == 9
    assert "disabled" in shown.text and "data-autosave-url" not in shown.text
    assert client.get(results(world, "protege")).status_code == 200
    before = list(Answer.objects.filter(response=answered).values_list("item_id", "value"))
    page = reverse("assessments:survey_page", args=[world["dyad"].research_code, 2, 1])
    assert client.post(page, {"REL-LG-1": "7", "next": "1"}).status_code == 403
    assert list(Answer.objects.filter(response=answered).values_list("item_id", "value")) == before
    assert not Response.objects.filter(dyad=world["dyad"], wave__number=2, role="protege").exists()


def test_the_answers_permission_opens_no_dashboard(client, world):
    client.force_login(granted(staff_user(), "view_answers"))
    assert client.get(reverse("coordinate:programs")).status_code == 404
    assert client.get(reverse("coordinate:program", args=["demo"])).status_code == 404


def test_staff_coordinate_every_program_only_with_the_permission(client, world):
    staff = staff_user()
    client.force_login(staff)
    assert client.get(reverse("coordinate:programs")).status_code == 404
    assert client.get(reverse("coordinate:manage", args=["demo", "2026"])).status_code == 403
    client.force_login(granted(staff, "coordinate_all_programs"))
    listed = client.get(reverse("coordinate:programs"))
    assert listed.status_code == 200
    assert "/coordinate/demo/" in listed.text and "/coordinate/elsewhere/" in listed.text
    assert client.get(reverse("coordinate:program", args=["elsewhere"])).status_code == 200
    cohort = client.get(reverse("coordinate:cohort", args=["demo", "2026"]))
    assert cohort.status_code == 200
    assert client.get(survey_page(world, "mentor")).status_code == 404  # no answers with it


def test_a_coordinator_with_the_permission_coordinates_other_programs_too(client, world):
    other = user_of("other_coord", world)
    client.force_login(other)
    assert client.get(reverse("coordinate:program", args=["demo"])).status_code == 404
    client.force_login(granted(other, "coordinate_all_programs"))
    assert client.get(reverse("coordinate:program", args=["demo"])).status_code == 200
    assert client.get(reverse("coordinate:program", args=["elsewhere"])).status_code == 200


def test_a_coordinators_own_pages_cost_no_permission_lookup(
    client, world, django_assert_max_num_queries
):
    client.force_login(user_of("coordinator", world))
    with django_assert_max_num_queries(50) as counted:
        assert client.get(reverse("coordinate:program", args=["demo"])).status_code == 200
        assert client.get(reverse("coordinate:cohort", args=["demo", "2026"])).status_code == 200
    tables = " ".join(query["sql"] for query in counted.captured_queries)
    assert "auth_permission" not in tables
