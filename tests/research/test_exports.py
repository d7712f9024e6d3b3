"""Research files: exact columns, pandas-readable, pseudonymous, formula-safe, consistent."""

import io
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments import cells
from assessments.models import ExportLog
from assessments.research import files
from assessments.research.services import FORMATS, export_zip
from relationships.models import Cohort, Participant
from tests.jobs.pages import archive_download
from tests.research.conftest import portable_text_of, text_of

pytestmark = pytest.mark.django_db


def frame_of(cohort: Cohort, format: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text_of(cohort, format)), keep_default_na=True)


@pytest.mark.parametrize(
    ("format", "columns"),
    [
        ("long", files.LONG_COLUMNS),
        ("dyad", files.DYAD_COLUMNS),
        ("pairwise", files.PAIRWISE_COLUMNS),
        ("codebook", files.codebook_columns(["es", "fr"])),
    ],
)
def test_each_file_has_exactly_the_designed_columns(cohort, format, columns):
    assert list(frame_of(cohort, format).columns) == columns


def test_the_respondent_file_lists_items_then_subscales_then_batteries(cohort):
    columns = list(frame_of(cohort, "respondent").columns)
    assert columns[:7] == files.RESPONDENT_ID_COLUMNS
    assert columns[7] == "REL-LG-1" and "OVR-3" in columns
    assert columns[-8:] == ["REL", "CAR", "PSY", "STR", "OVR", "KRAM", "rule_version", "language"]
    assert columns[-9] == "PSY-FR" and "REL-LG" in columns


@pytest.mark.parametrize("format", FORMATS)
def test_pandas_reads_every_file_without_warnings(cohort, format, recwarn):
    frame = frame_of(cohort, format)
    assert len(frame) > 0
    assert not [w for w in recwarn if "pandas" in str(w.filename)]


def test_no_name_or_email_appears_in_any_file(cohort):
    people = Participant.objects.select_related("user")
    secrets = {p.name for p in people if p.name} | {p.user.email for p in people if p.user}
    for format in FORMATS:
        text = text_of(cohort, format)
        assert not [s for s in secrets if s in text], format


def test_formula_like_cells_come_out_inert(cohort):
    cohort.program.name = "+cmd"
    cohort.program.save()
    Participant.objects.filter(pk=cohort.dyads.first().mentor_id).update(
        name='=HYPERLINK("http://x","y")'
    )
    for format in FORMATS:
        for line in text_of(cohort, format).splitlines():
            for cell in line.split(","):
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (format, cell)
                if cell.startswith("-"):
                    float(cell)  # only numbers may start with a minus


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+cmd", "'+cmd"),
        ("-cmd", "'-cmd"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-0.5000", "-0.5000"),
        ("+3", "+3"),
        ("plain", "plain"),
        (5, 5),
    ],
)
def test_neutralise_defuses_formulas_and_keeps_numbers(cell, safe):
    assert cells.neutralise(cell) == safe


def test_the_dyad_file_equals_a_recomputation_from_the_long_file(cohort):
    long = frame_of(cohort, "long")
    dyads = frame_of(cohort, "dyad").set_index(["wave", "dyad"])
    scale = {"STR": (1, 5)}
    long["value"] = long["value"].astype(float)
    low, high = zip(*[scale.get(b, (1, 7)) for b in long["battery"]], strict=True)
    long["scored"] = np.where(
        long["reverse_keyed"], np.array(low) + np.array(high) - long["value"], long["value"]
    )
    k = long.groupby(["wave", "dyad", "role", "subscale"])["item"].transform("nunique")
    by_sub = (
        long.assign(k=k)
        .groupby(["wave", "dyad", "role", "battery", "subscale"])
        .agg(mean=("scored", "mean"), n=("scored", "count"), k=("k", "first"))
    )
    need = np.maximum(2, np.ceil(2 * by_sub["k"] / 3))
    by_sub["score"] = by_sub["mean"].where(by_sub["n"] >= np.minimum(need, by_sub["k"]))
    batteries = by_sub.groupby(["wave", "dyad", "role", "battery"])["score"].agg(
        lambda s: s.mean() if s.isna().sum() <= 1 else math.nan
    )
    wide = batteries.unstack(["role", "battery"])
    for x in ("REL", "CAR", "PSY", "STR", "OVR"):
        for side in ("mentor", "protege"):
            expected = wide[(side, x)].round(4)
            got = dyads[f"{x}_{side}"].reindex(expected.index)
            pd.testing.assert_series_equal(got, expected, check_names=False, atol=1e-4)
        both = dyads[[f"{x}_mentor", f"{x}_protege"]]
        pd.testing.assert_series_equal(
            dyads[f"{x}_dyad"], both.mean(axis=1, skipna=False), check_names=False, atol=2e-4
        )
        pd.testing.assert_series_equal(
            dyads[f"{x}_diff"], both.iloc[:, 1] - both.iloc[:, 0], check_names=False, atol=2e-4
        )


@pytest.mark.parametrize("format", FORMATS)
def test_exports_use_the_same_number_of_queries_at_two_sizes(format):
    def queries() -> int:
        cohort = Cohort.objects.select_related("program").get(program__slug="demo")
        with CaptureQueriesContext(connection) as captured:
            text_of(cohort, format)
        return len(captured)

    call_command("seed_demo", "--dyads", "4", "--waves", "2", verbosity=0)
    small = queries()
    call_command("seed_demo", "--dyads", "30", "--waves", "2", verbosity=0)
    assert queries() == small


def test_the_command_writes_a_file_and_logs_the_export(cohort, tmp_path):
    target = tmp_path / "long.csv"
    call_command("export_cohort", "demo/2026", "--format", "long", "-o", str(target))
    rows = len(target.read_text().splitlines()) - 1
    log = ExportLog.objects.get()
    assert (log.cohort_path, log.format, log.rows, log.via) == (
        "demo/2026",
        "long",
        rows,
        "command",
    )


def test_the_zip_holds_every_file_the_r_script_and_a_readme(cohort):
    data, rows = export_zip(cohort=cohort)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    labelled = [f"demo-2026-{f}.{x}" for x in ("sav", "dta") for f in ("respondent", "dyad")]
    csvs = [f"demo-2026-{f}.csv" for f in FORMATS]
    assert sorted(names) == sorted([*csvs, *labelled, "read_cohort.R", "README.txt"])
    assert rows > 0


def test_staff_need_the_export_permission(client, cohort):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get("/exports/").status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="export_cohort"))
    client.force_login(staff)
    assert client.get("/exports/").status_code == 200
    reply = client.get("/exports/", {"cohort": cohort.pk, "format": "dyad"})
    body = b"".join(reply.streaming_content).decode()
    assert body.startswith("program,cohort,wave,dyad,mentor,protege,")
    log = ExportLog.objects.get()
    assert (log.user, log.format, log.rows, log.via) == (
        staff,
        "dyad",
        body.count("\n") - 1,
        "page",
    )


def test_the_page_offers_the_zip(client, cohort):
    from relationships.models import User

    client.force_login(User.objects.get(email="admin@example.org"))
    reply = archive_download(client, cohort, "zip")
    assert reply["Content-Type"] == "application/zip"
    data = b"".join(reply.streaming_content)
    assert "README.txt" in zipfile.ZipFile(io.BytesIO(data)).namelist()


@pytest.mark.parametrize("format", ["respondent", "pairwise"])
def test_frames_of_a_few_dyads_give_the_same_file_as_one_frame(cohort, format, monkeypatch):
    from assessments.research import selectors

    whole = portable_text_of(cohort, format)
    monkeypatch.setattr(selectors, "DYADS_PER_FRAME", 3)
    built = []
    batch = selectors._batch
    monkeypatch.setattr(selectors, "_batch", lambda *a: built.append(a[2]) or batch(*a))
    assert portable_text_of(cohort, format) == whole
    waves = cohort.waves.count()
    assert len(built) == 3 * waves and max(len(dyads) for dyads in built) == 3  # 8 = 3+3+2
    assert text_of(cohort, format) == whole  # the COPY path on PostgreSQL


def test_a_partner_who_submitted_nothing_has_no_code_in_the_dyad_file(cohort):
    from assessments.models import Response

    answered = set(
        Response.objects.filter(wave__cohort=cohort, status="submitted").values_list(
            "respondent__research_code", flat=True
        )
    )
    dyads = frame_of(cohort, "dyad")
    for role in ("mentor", "protege"):
        codes = dyads[role].dropna()
        assert set(codes) <= answered
    silent = [d for d in cohort.dyads.all() if d.mentor.research_code not in answered
              or d.protege.research_code not in answered]  # fmt: skip
    assert silent, "the demo has a partner who never answers"
    assert dyads[["mentor", "protege"]].isna().any(axis=None)
