"""A small seeded cohort and its files as text, shared by the research tests."""

import pytest
from django.core.management import call_command

from assessments.research import files, services
from assessments.research.services import export_stream
from relationships.models import Cohort


@pytest.fixture
def cohort() -> Cohort:
    call_command("seed_demo", "--dyads", "8", "--waves", "3", verbosity=0)
    return Cohort.objects.select_related("program").get(program__slug="demo")


def text_of(cohort: Cohort, format: str) -> str:
    chunks, _ = export_stream(cohort=cohort, format=format)
    return "".join(chunks)


def portable_text_of(cohort: Cohort, format: str) -> str:
    """A file as the portable path writes it (row by row in Python, on any database)."""
    constants = services.results_refresh(cohort=cohort)
    header, rows = services._file(cohort, format, constants)
    return "".join(files.csv_chunks(header, rows))
