"""Random input to every endpoint that takes answers or files: never a server error, never
a stored value outside its scale, and refused input changes nothing (hypothesis).

The seeded world (conftest) is shared by the examples of a test; each example checks
the invariants against the database as it finds it.
"""

import csv
import io
import string
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F, Q
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.models import Answer, Item
from assessments.research.files import LONG_COLUMNS
from relationships.models import Dyad
from tests.test_permissions import user_of

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CODES = ["REL-LG-1", "REL-CN-3", "CAR-SP-1", "PSY-AC-2", "STR-1", "OVR-1", "csrfmiddlewaretoken"]
field_names = st.one_of(
    st.sampled_from(CODES),
    st.sampled_from(CODES).map(lambda c: c + "x"),
    st.sampled_from(CODES).map(lambda c: c + "\x00"),
    st.text(min_size=0, max_size=40),
    st.text(alphabet=string.ascii_uppercase + "-0123456789", min_size=1, max_size=12),
)
values = st.one_of(
    st.integers(-10, 12).map(str),
    st.sampled_from(
        ["na", "", " 3", "3.0", "1e3", "-0", "NaN", "∞", "७", "٣", "\x00", "5\n", "3\x00"]
    ),
    st.floats(allow_nan=True).map(str),
    st.text(max_size=30),
    st.text(min_size=1000, max_size=3000),
)
forms = st.dictionaries(field_names, values, max_size=12)


def stored() -> list[tuple]:
    return sorted(Answer.objects.values_list("response_id", "item_id", "value"))


def assert_every_answer_in_scale() -> None:
    battery = "item__subscale__battery__"
    outside = Answer.objects.filter(
        Q(value__lt=F(f"{battery}scale_min"))
        | Q(value__gt=F(f"{battery}scale_max"))
        | Q(value__isnull=True, item__allow_na=False)
        | ~Q(item__subscale__battery__instrument=F("response__wave__instrument"))
    )
    assert not outside.exists(), list(outside.values_list("item__code", "value"))


def survey_url(world, name: str, **extra) -> str:
    return reverse(f"assessments:{name}", kwargs={"code": world["dyad"].research_code,
                                                  "wave": 2, **extra})  # fmt: skip


@FUZZ
@given(form=forms)
def test_autosave_never_fails_and_never_stores_a_value_outside_its_scale(client, world, form):
    client.force_login(user_of("mentor", world))
    before = stored()
    response = client.post(survey_url(world, "survey_autosave"), form)
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert stored() == before
    assert_every_answer_in_scale()


@FUZZ
@given(form=forms, page=st.integers(1, 5), button=st.sampled_from(["next", "previous", "x"]))
def test_a_survey_page_post_never_fails(client, world, form, page, button):
    client.force_login(user_of("mentor", world))
    response = client.post(survey_url(world, "survey_page", page=page), {**form, button: "1"})
    assert response.status_code in (200, 302, 400)
    assert_every_answer_in_scale()


@FUZZ
@given(form=forms)
def test_a_submit_post_never_fails(client, world, form):
    client.force_login(user_of("protege", world))
    response = client.post(survey_url(world, "survey_review"), form)
    assert response.status_code in (200, 302, 400, 409)
    assert_every_answer_in_scale()


cells = st.one_of(
    st.text(max_size=15),
    st.sampled_from(["demo", "2026", "1", "2", "mentor", "protege", "REL-LG-1", "REL", "REL-LG",
                     "true", "false", "7", "9", "", "continuum-default", "2026-03-04T10:15:00Z",
                     "=1+1", "D-AAAAAA", "P-AAAAAA"]),
)  # fmt: skip
rows = st.lists(st.lists(cells, min_size=0, max_size=16), max_size=6)
headers = st.one_of(st.just(LONG_COLUMNS), st.lists(st.sampled_from(LONG_COLUMNS), max_size=16))


def csv_bytes(header: list[str], body: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue().encode(encoding, errors="replace")


@FUZZ
@given(
    header=headers,
    body=rows,
    encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]),
    junk=st.binary(max_size=40),
)
def test_import_responses_refuses_bad_files_cleanly(world, tmp_path_factory, header, body,
                                                    encoding, junk):  # fmt: skip
    path = Path(tmp_path_factory.mktemp("fuzz")) / "long.csv"
    path.write_bytes(csv_bytes(header, body, encoding) + junk)
    before = stored()
    try:
        call_command("import_responses", str(path), verbosity=0)
    except CommandError as error:
        assert "nothing was loaded" in str(error) or str(path) in str(error)
        assert stored() == before
    assert_every_answer_in_scale()


dyad_headers = st.one_of(
    st.just(["mentor_email", "mentor_name", "protege_email", "protege_name"]),
    st.lists(st.sampled_from(["mentor_email", "mentor_name", "protege_email", "protege_name",
                              "kind", "supervisory", "started_on", "x"]), max_size=8),
)  # fmt: skip


@FUZZ
@given(header=dyad_headers, body=rows, junk=st.binary(max_size=40), confirm=st.booleans())
def test_the_dyad_import_upload_never_fails(client, world, header, body, junk, confirm):
    client.force_login(user_of("coordinator", world))
    url = reverse("coordinate:dyad_import", args=["demo", "2026"])
    data = csv_bytes(header, body, "utf-8") + junk
    dyads = Dyad.objects.count()
    if confirm:
        response = client.post(url, {"csv_text": data.decode("utf-8", errors="replace")})
        assert response.status_code in (302, 400)
    else:
        upload = SimpleUploadedFile("dyads.csv", data, "text/csv")
        response = client.post(url, {"file": upload})
        assert response.status_code == 200
        assert Dyad.objects.count() == dyads  # a preview writes nothing
    assert_every_answer_in_scale()


def test_the_catalogue_used_above_matches_the_instrument(world):
    """The fuzzed item codes include real ones, so accepted answers are exercised too."""
    real = set(Item.objects.values_list("code", flat=True))
    assert {c for c in CODES if c != "csrfmiddlewaretoken"} <= real
