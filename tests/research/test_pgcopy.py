"""The PostgreSQL COPY paths of the research files: the same bytes as the portable
paths, counted, cancellable, and formula-safe exactly as ``cells.neutralise`` is."""

import pytest
from django.core.management import call_command
from django.db import connection

from assessments import cells
from assessments.models import Answer, ExportLog, Response
from assessments.research import files, pgcopy, selectors
from assessments.services import results_recompute
from relationships.models import Cohort, Participant
from tests.research.conftest import portable_text_of, text_of

pytestmark = pytest.mark.django_db


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY path of the long file is PostgreSQL's"
)


def python_long(cohort: Cohort) -> str:
    """The long file as the portable path writes it (row by row in Python)."""
    rows = files.long_rows(selectors.long_records(cohort=cohort))
    return "".join(files.csv_chunks(files.LONG_COLUMNS, rows))


@on_postgresql
def test_the_copy_path_writes_the_same_bytes_as_the_python_path(cohort):
    Participant.objects.filter(pk=cohort.dyads.first().mentor_id).update(research_code="-cmd")
    Participant.objects.filter(pk=cohort.dyads.last().mentor_id).update(research_code="a,b")
    cohort.slug = "-x"
    cohort.save()
    text = text_of(cohort, "long")
    assert text == python_long(cohort)
    assert "'-cmd" in text and '"a,b"' in text and ",'-x," in text


def hostile(cohort: Cohort) -> Cohort:
    """Codes a spreadsheet would run or split, and a response missing one answer."""
    Participant.objects.filter(pk=cohort.dyads.first().mentor_id).update(research_code="-cmd")
    Participant.objects.filter(pk=cohort.dyads.last().protege_id).update(research_code="a,b")
    cohort.slug = "-x"
    cohort.save()
    response = Response.objects.filter(wave__cohort=cohort, status="submitted").first()
    Answer.objects.filter(response=response).order_by("pk").first().delete()
    results_recompute(cohort=cohort, dyad_ids=[response.dyad_id])
    return cohort


@on_postgresql
@pytest.mark.parametrize("format", ["dyad", "respondent", "pairwise"])
def test_the_scored_files_copy_the_same_bytes_as_the_python_path(cohort, format):
    hostile(cohort)
    text = text_of(cohort, format)
    assert text == portable_text_of(cohort, format)
    assert ",'-x," in text and text.count("\r\n") > cohort.dyads.count()


@on_postgresql
@pytest.mark.parametrize("format", ["dyad", "respondent", "pairwise"])
def test_the_scored_files_copy_a_programs_own_rule_version(cohort, format):
    cohort.program.placement_overrides = {"strain_cut": 2.0}
    cohort.program.save()
    text = text_of(cohort, format)
    assert text == portable_text_of(cohort, format)
    assert "continuum-v1+" in text


@on_postgresql
@pytest.mark.parametrize(
    "value", [5.03125, -0.0, 0.0, -1e-17, 1 / 3, 2 / 3, -2.5, 100.0, 0.00005, 99.99995]
)
def test_postgresql_writes_numbers_exactly_as_python_does(value):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pgcopy._number('x')} FROM (SELECT %s::float8 AS x) t", [value])
        assert cursor.fetchone()[0] == files.number(value)


@on_postgresql
def test_the_copy_path_counts_its_rows(cohort, tmp_path):
    call_command("export_cohort", "demo/2026", "--format", "long", "-o", str(tmp_path / "l.csv"))
    log = ExportLog.objects.get(format="long")
    assert log.rows == len((tmp_path / "l.csv").read_text().splitlines()) - 1 > 0


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_reader_that_stops_early_cancels_the_copy_and_leaves_the_connection_usable():
    call_command("seed_demo", "--dyads", "40", "--waves", "2", verbosity=0)
    cohort = Cohort.objects.select_related("program").get(program__slug="demo")
    blocks = pgcopy.long_copy(cohort=cohort)
    pgcopy.COPY_BLOCK, saved = 1000, pgcopy.COPY_BLOCK
    try:
        assert next(blocks).count("\r\n") >= 1
        blocks.close()
    finally:
        pgcopy.COPY_BLOCK = saved
    assert Cohort.objects.filter(pk=cohort.pk).exists()


@on_postgresql
@pytest.mark.parametrize(
    "cell", ["-1", "+2.5", "-.5", "1e3", "-1e-3", "-1.", "-inf", "-nan", "- 1", "-1_0", "=1",
             "@a", "\tx", "\rx", "+", "-", "plain", "-1\n", "'-x"],
)  # fmt: skip
def test_postgresql_neutralises_exactly_as_python_does(cell):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pgcopy._neutralised('c')} FROM (SELECT %s::text AS c) t", [cell])
        assert cursor.fetchone()[0] == cells.neutralise(cell)
