"""Every model has a working admin: list with filters and search, add and change pages."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in {"relationships", "assessments"}
)


@pytest.fixture
def staff_client(client, cast):
    call_command("seed_demo", "--dyads", "8", "--waves", "2")
    client.force_login(cast.admin)
    return client


def test_every_domain_model_is_registered():
    names = {name for _, name in MODELS}
    assert {
        "user",
        "program",
        "coordinatormembership",
        "cohort",
        "participant",
        "dyad",
        "instrument",
        "battery",
        "subscale",
        "item",
        "wave",
        "invitation",
        "response",
        "answer",
        "dyadwaveresult",
    } <= names


@pytest.mark.parametrize(("app", "model"), MODELS)
def test_admin_lists_search_and_change_pages_work(staff_client, app, model):
    changelist = reverse(f"admin:{app}_{model}_changelist")
    assert staff_client.get(changelist).status_code == 200
    assert staff_client.get(changelist, {"q": "P-"}).status_code == 200
    model_class = next(m for m in admin.site._registry if m._meta.model_name == model)
    obj = model_class.objects.order_by("pk").first()
    if obj is not None:
        change = reverse(f"admin:{app}_{model}_change", args=[obj.pk])
        assert staff_client.get(change).status_code == 200


def test_participants_are_found_by_research_code_and_email(staff_client):
    from relationships.models import Participant

    person = Participant.objects.get(user__email="mentor@example.org")
    url = reverse("admin:relationships_participant_changelist")
    assert person.research_code in staff_client.get(url, {"q": person.research_code}).text
    assert person.research_code in staff_client.get(url, {"q": "mentor@example.org"}).text


def test_an_answered_instrument_is_read_only_in_the_admin(staff_client):
    from assessments.models import Instrument

    instrument = Instrument.objects.get(code="continuum-default")
    page = staff_client.get(reverse("admin:assessments_instrument_change", args=[instrument.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
