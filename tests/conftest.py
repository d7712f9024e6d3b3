"""The standing cast of every test: a dyad's mentor and protégé, an outsider
participant, a coordinator of the dyad's program, a coordinator of another program
and an admin."""

from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from relationships.models import Dyad
from tests import factories


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts and ends in the default language: a request for a French page
    leaves its thread in French, which the next test must not inherit."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 costs ~100 ms a check; production keeps it, tests need not.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(db) -> SimpleNamespace:
    program = factories.ProgramFactory(name="Bridges", slug="bridges")
    other_program = factories.ProgramFactory(name="Elsewhere", slug="elsewhere")
    cohort = factories.CohortFactory(program=program, name="2026", slug="2026")
    dyad = factories.DyadFactory(cohort=cohort)
    other_dyad = factories.DyadFactory(cohort=cohort)
    coordinator = factories.CoordinatorFactory(program=program).user
    other_coordinator = factories.CoordinatorFactory(program=other_program).user
    admin = factories.UserFactory(email="admin@example.org", is_staff=True, is_superuser=True)
    return SimpleNamespace(
        program=program,
        other_program=other_program,
        cohort=cohort,
        dyad=dyad,
        mentor=dyad.mentor,
        protege=dyad.protege,
        outsider=other_dyad.mentor,
        other_dyad=other_dyad,
        coordinator=coordinator,
        other_coordinator=other_coordinator,
        admin=admin,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The seeded demo (4 dyads, 2 waves), the demo mentor's dyad, a participant of
    another dyad and a coordinator of another program; built once per test module."""
    with django_db_blocker.unblock():
        call_command("seed_demo", "--dyads", "4", "--waves", "2", verbosity=0)
        dyad = Dyad.objects.get(mentor__user__email="mentor@example.org")
        outsider = Dyad.objects.exclude(pk=dyad.pk).first().mentor.user
        other = factories.CoordinatorFactory(program__slug="elsewhere").user
        yield {"dyad": dyad, "outsider": outsider, "other_coord": other}
        call_command("flush", "--noinput", verbosity=0)


@pytest.fixture
def answered(world):
    """The demo mentor's open wave-2 response with nine answers of 3."""
    from assessments.models import Answer, Item, Wave
    from assessments.survey.services import answers_save, response_open

    dyad = world["dyad"]
    wave = Wave.objects.get(cohort=dyad.cohort, number=2)
    response = response_open(dyad=dyad, wave=wave, participant=dyad.mentor)
    items = Item.objects.filter(subscale__battery__instrument=wave.instrument)
    answers_save(response=response, values={i.code: "3" for i in items[:9]})
    yield response
    Answer.objects.filter(response=response).delete()
