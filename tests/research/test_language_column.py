"""The research files record the language of each response: a final ``language`` column
in the long and respondent files (the same bytes through COPY), the wording in every
language in the codebook, labelled files that code it, and imports that read it back."""

import io

import pandas as pd
import pyreadstat
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from assessments.models import Response
from assessments.research import files, services
from assessments.research.imports import responses_import
from relationships.models import Cohort, Participant, Program
from tests.research.conftest import portable_text_of, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def spoken(cohort: Cohort) -> Cohort:
    """The demo cohort with its mentors answering in Spanish and, in the first dyad, the
    protégé in French: the partners of a dyad in different languages."""
    responses = Response.objects.filter(wave__cohort=cohort)
    responses.filter(role="mentor").update(language="es")
    french = responses.submitted().filter(role="protege").order_by("pk").first()
    responses.filter(role="protege", dyad_id=french.dyad_id).update(language="fr")
    return cohort


def frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def languages_by_response(cohort: Cohort) -> dict[tuple, str]:
    rows = Response.objects.submitted().filter(wave__cohort=cohort)
    return {
        (wave, dyad, role): language
        for wave, dyad, role, language in rows.values_list(
            "wave__number", "dyad__research_code", "role", "language"
        )
    }


@pytest.mark.parametrize("format", ["long", "respondent"])
def test_the_long_and_respondent_files_end_with_each_responses_language(spoken, format):
    table = frame(text_of(spoken, format))
    assert table.columns[-1] == "language"
    expected = languages_by_response(spoken)
    found = {
        (int(row.wave), row.dyad, row.role): row.language
        for row in table[["wave", "dyad", "role", "language"]].itertuples()
    }
    assert found == expected
    assert set(found.values()) == {"en", "es", "fr"}


@pytest.mark.parametrize("format", ["long", "respondent"])
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's")
def test_copy_writes_the_language_column_as_python_does(spoken, format):
    assert text_of(spoken, format) == portable_text_of(spoken, format)


def test_the_codebook_gives_each_items_wording_in_every_language(spoken):
    book = frame(text_of(spoken, "codebook")).set_index(["file", "column"])
    assert list(book.reset_index().columns) == files.codebook_columns(["es", "fr"])
    item = book.loc[("respondent", "CAR-SP-1")]
    assert item["item_text_mentor"] == "I put my protégé's name forward for roles and openings."
    assert item["item_text_protege_es"] == "Mi mentor/a me propone para puestos y oportunidades."
    assert item["item_text_mentor_fr"].startswith("Je recommande mon/ma mentoré(e)")
    for file in ("long", "respondent"):
        language = book.loc[(file, "language")]
        assert language["values"] == "en; es; fr" and language["type"] == "string"
        assert language["item_text_mentor_es"] == ""
    assert ("dyad", "language") not in book.index


@pytest.mark.parametrize("format", ["sav", "dta"])
def test_the_labelled_respondent_file_codes_the_language_with_its_labels(spoken, format, tmp_path):
    paths, _ = services.labelled_write(cohort=spoken, format=format, folder=tmp_path, stem="x")
    read = pyreadstat.read_sav if format == "sav" else pyreadstat.read_dta
    data, meta = read(str(paths[0]))
    assert meta.variable_value_labels["language"] == {1: "en", 2: "es", 3: "fr"}
    table = frame(text_of(spoken, "respondent"))
    coded = data["language"].map(meta.variable_value_labels["language"])
    assert list(coded) == list(table["language"])


def reimported(long: str, tmp_path) -> None:
    Response.objects.all().delete()
    Program.objects.all().delete()
    Participant.objects.all().delete()
    path = tmp_path / "long.csv"
    path.write_text(long, encoding="utf-8", newline="")
    call_command("import_responses", str(path), verbosity=0)


def test_an_import_reads_each_language_back_and_exports_the_same_bytes(spoken, tmp_path):
    long, respondent = text_of(spoken, "long"), text_of(spoken, "respondent")
    before = languages_by_response(spoken)
    reimported(long, tmp_path)
    cohort = Cohort.objects.select_related("program").get(program__slug="demo")
    assert languages_by_response(cohort) == before
    assert text_of(cohort, "long") == long
    assert text_of(cohort, "respondent") == respondent


def test_a_file_without_the_language_column_imports_in_the_instruments_first_language(
    spoken, tmp_path
):
    table = frame(text_of(spoken, "long")).drop(columns=["language"])
    reimported(table.to_csv(index=False, lineterminator="\r\n"), tmp_path)
    assert set(Response.objects.values_list("language", flat=True)) == {"en"}


def long_with(spoken: Cohort, change) -> bytes:
    table = frame(text_of(spoken, "long"))
    change(table)
    Response.objects.all().delete()
    return table.to_csv(index=False, lineterminator="\r\n").encode()


def test_a_language_the_instrument_lacks_is_refused_by_line(spoken):
    def unknown(table: pd.DataFrame) -> None:
        table.loc[table.index[0], "language"] = "de"

    with pytest.raises(ValidationError) as error:
        responses_import(data=long_with(spoken, unknown))
    assert "line 2: the instrument has no de wording (it has en, es, fr)" in error.value.messages
    assert not Response.objects.exists()


def test_one_response_in_two_languages_is_refused(spoken):
    def split(table: pd.DataFrame) -> None:
        first = table.index[0]
        table.loc[first, "language"] = "fr" if table.loc[first, "language"] != "fr" else "es"

    with pytest.raises(ValidationError) as error:
        responses_import(data=long_with(spoken, split))
    assert any("one response is in 2 languages" in m for m in error.value.messages)
    assert not Response.objects.exists()
