"""A wave without a label of its own is named "Wave N" in each reader's language; the
demo stores no English names, and a demo that did has them cleared when seeded again."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from assessments.models import Response, Wave
from assessments.research.services import export_stream
from relationships.models import Cohort, Participant, Program, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", "--dyads", "4", "--waves", "2", verbosity=0)
    return Wave.objects.filter(cohort__program__slug="demo", cohort__slug="2026")


@pytest.mark.parametrize(("language", "name"), [("en", "Wave 2"), ("es", "Oleada 2"),
                                                ("fr", "Vague 2")])  # fmt: skip
def test_a_wave_without_a_label_is_named_in_the_active_language(language, name):
    with translation.override(language):
        assert str(Wave(number=2)) == name
        assert str(Wave(number=2, label="Spring check-in")) == "Spring check-in"


def test_the_demo_stores_no_wave_label(demo):
    assert list(demo.values_list("label", flat=True)) == ["", ""]


def test_seeding_again_clears_the_english_names_an_older_demo_stored(demo):
    Wave.objects.filter(pk=demo[0].pk).update(label="Wave 1")
    Wave.objects.filter(pk=demo[1].pk).update(label="Kick-off")
    call_command("seed_demo", "--dyads", "4", "--waves", "2", verbosity=0)
    call_command("seed_demo", "--dyads", "4", "--waves", "2", verbosity=0)
    assert list(demo.values_list("label", flat=True)) == ["", "Kick-off"]


@pytest.mark.parametrize(("language", "name"), [("es", "Oleada 1"), ("fr", "Vague 1")])
def test_the_coordinator_pages_name_the_demo_waves_in_the_reader_s_language(
    client, demo, language, name
):
    client.force_login(User.objects.get(email="coordinator@example.org"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for page in ("/coordinate/demo/2026/", "/coordinate/demo/2026/alerts/"):
        text = client.get(page).content.decode()
        assert name in text and "Wave 1" not in text, page


def test_waves_made_by_importing_a_long_file_store_no_label(demo, tmp_path):
    cohort = Cohort.objects.select_related("program").get(program__slug="demo")
    chunks, _ = export_stream(cohort=cohort, format="long")
    path = tmp_path / "long.csv"
    path.write_text("".join(chunks), encoding="utf-8", newline="")
    Response.objects.all().delete()
    Program.objects.all().delete()
    Participant.objects.all().delete()
    call_command("import_responses", str(path), verbosity=0)
    assert set(Wave.objects.values_list("label", flat=True)) == {""}
