"""Commands name a wave as the pages do (PROGRAM/COHORT/NUMBER); ids still work."""

import pytest
from django.core.management import CommandError, call_command

from assessments.models import Wave

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", "--dyads", "2", "--waves", "2", verbosity=0)
    return Wave.objects.get(cohort__program__slug="demo", cohort__slug="2026", number=2)


@pytest.mark.parametrize("command", ["send_invitations", "send_reminders"])
def test_a_wave_is_named_by_program_cohort_and_number_or_by_id(wave, command, capsys):
    call_command(command, "--wave", "demo/2026/2")
    by_name = capsys.readouterr().out
    call_command(command, "--wave", str(wave.pk))
    by_id = capsys.readouterr().out
    assert "Wave 2" in by_name and "Wave 2" in by_id


@pytest.mark.parametrize("name", ["demo/2026/9", "demo/nope/2", "demo/2026", "٣", "demo/2026/x"])
def test_an_unknown_or_malformed_wave_name_is_one_clear_error(wave, name):
    with pytest.raises(CommandError, match="wave"):
        call_command("send_invitations", "--wave", name)
