"""The standing cast of every test: a dyad's mentor and protégé, an outsider
participant, a coordinator of the dyad's program, a coordinator of another program
and an admin."""

from types import SimpleNamespace

import pytest

from tests import factories


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
