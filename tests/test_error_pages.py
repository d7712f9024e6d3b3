"""Friendly 400, 403, 404 and 500 pages that leak nothing, and oversized requests refused
with nothing stored."""

import pytest
from django.test import Client
from django.urls import reverse

from assessments.models import Answer
from tests.test_permissions import user_of

pytestmark = pytest.mark.django_db
LEAKS = ("Traceback", "secret detail", "/srv/", "settings.py", "SECRET_KEY", "DEBUG", ".py")


def assert_friendly(response, status: int, heading: str) -> None:
    assert response.status_code == status
    text = response.content.decode()
    assert f"Error {status}" in text and heading in text and 'href="/"' in text
    assert "<h1" in text and text.count("<h1") == 1
    assert not [leak for leak in LEAKS if leak in text]


def test_an_unknown_address_gets_the_friendly_404(client):
    assert_friendly(client.get("/no/such/page/"), 404, "Page not found")


def test_a_participant_on_the_exports_page_gets_the_friendly_403(client, world):
    client.force_login(user_of("mentor", world))
    assert_friendly(client.get(reverse("exports:index")), 403, "You cannot open this page")


def test_a_bad_host_header_gets_the_friendly_400(client):
    response = client.get("/", HTTP_HOST="attacker.example")
    assert_friendly(response, 400, "That request could not be read")


@pytest.mark.urls("tests.error_urls")
def test_a_fault_gets_the_friendly_500_without_details(db):
    client = Client(raise_request_exception=False)
    assert_friendly(client.get("/broken/"), 500, "Something went wrong on our side")


def autosave_url(world) -> str:
    return reverse("assessments:survey_autosave", args=[world["dyad"].research_code, 2])


def test_an_oversized_autosave_is_refused_and_stores_nothing(client, world, answered):
    client.force_login(user_of("mentor", world))
    before = sorted(Answer.objects.values_list("response_id", "item_id", "value"))
    response = client.post(autosave_url(world), {"REL-LG-1": "5", "padding": "x" * 2_000_000})
    assert_friendly(response, 400, "That request could not be read")
    assert sorted(Answer.objects.values_list("response_id", "item_id", "value")) == before


def test_a_request_with_too_many_fields_is_refused_and_stores_nothing(client, world, answered):
    client.force_login(user_of("mentor", world))
    before = sorted(Answer.objects.values_list("response_id", "item_id", "value"))
    fields = {f"field-{n}": "1" for n in range(400)} | {"REL-LG-1": "5"}
    assert client.post(autosave_url(world), fields).status_code == 400
    assert sorted(Answer.objects.values_list("response_id", "item_id", "value")) == before


def test_an_oversized_dyad_file_is_refused_before_anything_is_read(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from assessments.coordinate.forms import MAX_CSV_BYTES

    client.force_login(user_of("coordinator", world))
    cohort = world["dyad"].cohort
    before = cohort.dyads.count()
    url = reverse("coordinate:dyad_import", args=["demo", "2026"])
    big = ("mentor_email,mentor_name,protege_email,protege_name\n" + "a" * MAX_CSV_BYTES).encode()
    response = client.post(url, {"file": SimpleUploadedFile("dyads.csv", big, "text/csv")})
    assert "larger than 2 MB" in response.content.decode()
    assert cohort.dyads.count() == before


@pytest.mark.parametrize(
    "path",
    ["/me/survey/D-A%00B/2/", "/me/survey/D-A%00B/2/page/1/", "/me/results/D-%00/1/",
     "/coordinate/demo/2026/dyads/D-%00/", "/coordinate/de%00mo/", "/invite/ab%00cd/",
     "/coordinate/demo/2026/?wave=%00"],
)  # fmt: skip
def test_a_nul_byte_in_the_address_gets_the_friendly_400(client, world, path):
    for persona in ("mentor", "coordinator", "admin"):
        client.force_login(user_of(persona, world))
        assert_friendly(client.get(path), 400, "That request could not be read")
