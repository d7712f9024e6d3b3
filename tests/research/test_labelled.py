"""SPSS and Stata files: every value is the CSV file's, every label the codebook's; the
zip carries them and read_cohort.R; the exports page offers them to admins only."""

import csv
import io
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import ExportLog
from assessments.research import labelled, selectors, services
from assessments.research.files import CODEBOOK_COLUMNS
from relationships.models import Cohort, User
from tests.factories import UserFactory
from tests.jobs.pages import archive_download
from tests.research.conftest import text_of

pytestmark = pytest.mark.django_db

FILES = labelled.FILES
FORMATS = labelled.FORMATS
READ = {"sav": pyreadstat.read_sav, "dta": pyreadstat.read_dta}
R_SCRIPT = services.R_SCRIPT.read_text(encoding="utf-8")


def written(cohort: Cohort, format: str, folder: Path) -> dict[str, Path]:
    paths, _ = services.labelled_write(cohort=cohort, format=format, folder=folder, stem="x")
    return dict(zip(FILES, paths, strict=True))


def csv_text(cohort: Cohort, file: str) -> pd.DataFrame:
    """A CSV file as the text of its cells, empty cells as empty strings."""
    return pd.read_csv(io.StringIO(text_of(cohort, file)), dtype=str, keep_default_na=False)


def codebook_of(cohort: Cohort, file: str) -> pd.DataFrame:
    book = csv_text(cohort, "codebook")
    return book[book["file"] == file].set_index("column")


def points(values: str) -> dict[int, str]:
    pairs = (re.fullmatch(r"(\d+) = (.+)", part) for part in values.split("; "))
    return {int(m[1]): m[2] for m in pairs if m}


def listed(entry: pd.Series) -> list[str]:
    """The values a coded text column lists (``mentor; protege``), else none."""
    coded = entry["type"] == "string" and re.fullmatch(r"[a-z_]+(; [a-z_]+)+", entry["values"])
    return entry["values"].split("; ") if coded else []


def wording(entry: pd.Series) -> str:
    mentor, protege = entry["item_text_mentor"], entry["item_text_protege"]
    if not (mentor or protege):
        return entry["label"]
    return mentor if mentor == protege else f"protégé: {protege} | mentor: {mentor}"


def same_numbers(got: np.ndarray, text: pd.Series) -> bool:
    """Each double is Python's ``float`` of its CSV cell (empty = missing), sign included."""
    expected = np.array([float(cell) if cell else math.nan for cell in text])
    equal = np.array_equal(got, expected, equal_nan=True)
    return equal and np.array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("format", FORMATS)
def test_every_value_of_a_labelled_file_is_the_csv_files(cohort, format, tmp_path):
    paths = written(cohort, format, tmp_path)
    for file in FILES:
        table, book = csv_text(cohort, file), codebook_of(cohort, file)
        data, meta = READ[format](paths[file])
        names = [column.replace("-", "_") for column in table.columns]
        assert meta.column_names == names and len(data) == len(table) > 0
        for column, name in zip(table.columns, names, strict=True):
            entry, cells, got = book.loc[column], table[column], data[name]
            if entry["type"] in ("integer", "float"):
                assert same_numbers(got.to_numpy(dtype=float), cells), column
            elif entry["type"] == "datetime":
                assert list(got.dt.strftime("%Y-%m-%dT%H:%M:%SZ")) == list(cells), column
            elif listed(entry):
                codes = meta.variable_value_labels[name]
                assert [codes[c] if c == c else "" for c in got] == list(cells), column
            else:
                assert list(got) == list(cells), column


@pytest.mark.parametrize("format", FORMATS)
def test_every_variable_and_value_label_is_the_codebooks(cohort, format, tmp_path):
    paths = written(cohort, format, tmp_path)
    limit = labelled.LIMITS[format]
    for file in FILES:
        book = codebook_of(cohort, file)
        _, meta = READ[format](paths[file])
        found = dict(zip(meta.column_names, meta.column_labels, strict=True))
        assert len(found) == len(book)
        for column, entry in book.iterrows():
            name, expected = column.replace("-", "_"), wording(entry)
            assert found[name] == labelled.fit(expected, limit.variable_label,
                                               in_bytes=limit.in_bytes), column  # fmt: skip
            value_labels = {int(k): v for k, v in meta.variable_value_labels.get(name, {}).items()}
            if listed(entry):
                assert value_labels == dict(enumerate(listed(entry), start=1)), column
            elif entry["type"] == "integer":
                assert value_labels == points(entry["values"]), column
            else:
                assert value_labels == {}, column


def test_items_carry_their_wording_and_their_scale(cohort, tmp_path):
    for format in FORMATS:
        _, meta = READ[format](written(cohort, format, tmp_path)["respondent"])
        wordings = meta.column_names_to_labels
        assert wordings["REL_LG_1"] == (
            "I have learned something useful about myself through our conversations."
        )
        scale = meta.variable_value_labels["REL_LG_1"]
        assert (scale[1], scale[7]) == ("Strongly disagree", "Strongly agree")
        assert meta.variable_value_labels["STR_1"][5] == "Very often"
        assert meta.variable_value_labels["role"] == {1: "mentor", 2: "protege"}
    _, stata = READ["dta"](tmp_path / "x-respondent.dta")
    both = stata.column_names_to_labels["CAR_SP_1"]
    assert both.startswith("protégé: My mentor puts my name forward") and both.endswith("…")
    assert len(both) == 80  # Stata keeps 80 characters; the codebook has it whole


def test_the_codebook_lists_the_labelled_points_of_each_scale(cohort):
    book = codebook_of(cohort, "respondent")
    assert book.loc["REL-LG-1", "values"] == (
        "1..7; 1 = Strongly disagree; 2 = Disagree; 3 = Somewhat disagree; "
        "4 = Neither agree nor disagree; 5 = Somewhat agree; 6 = Agree; 7 = Strongly agree; "
        "empty = not applicable or missing"
    )


def test_the_csv_reader_reads_every_four_decimal_number_exactly(tmp_path):
    numbers = [f"{n / 10000:.4f}" for n in range(-100_000, 1_000_001)] + ["-0.0000", ""]
    source = tmp_path / "numbers.csv"
    source.write_text("\n".join(["x,w", *(f"{n},1" for n in numbers)]) + "\n")
    columns = {x: labelled.Column(x, "a score", "float", "") for x in ("x", "w")}
    assert same_numbers(labelled.read_frame(source, columns)["x"].to_numpy(), pd.Series(numbers))


def test_a_value_the_codebook_does_not_list_is_refused(tmp_path):
    source = tmp_path / "roles.csv"
    source.write_text("role\nmentor\nsponsor\n")
    columns = {"role": labelled.Column("role", "role", "string", "mentor; protege")}
    with pytest.raises(ValueError, match="sponsor"):
        labelled.read_frame(source, columns)


@pytest.mark.parametrize(
    ("text", "limit", "in_bytes", "cut"),
    [
        ("short", 80, False, "short"),
        ("a" * 81, 80, False, "a" * 79 + "…"),
        ("é" * 10, 12, True, "é" * 4 + "…"),  # 4 × 2 bytes + 3 bytes; never half a letter
        ("ab    cd", 5, False, "ab…"),  # no blank before the ellipsis
    ],
)
def test_a_label_too_long_for_its_format_is_cut_with_an_ellipsis(text, limit, in_bytes, cut):
    assert labelled.fit(text, limit, in_bytes=in_bytes) == cut


def test_the_command_writes_two_files_named_from_its_output(cohort, tmp_path):
    call_command("export_cohort", "demo/2026", "--format", "sav", "-o", str(tmp_path / "out.sav"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out-dyad.sav", "out-respondent.sav"]
    rows = sum(len(READ["sav"](tmp_path / f"out-{f}.sav")[0]) for f in FILES)
    log = ExportLog.objects.get()
    assert (log.format, log.rows, log.via) == ("sav", rows, "command")
    folder = tmp_path / "stata"
    folder.mkdir()
    call_command("export_cohort", "demo/2026", "--format", "dta", "-o", str(folder))
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["demo-2026-dyad.dta", "demo-2026-respondent.dta"]


def test_the_command_needs_an_output_for_two_files(cohort):
    with pytest.raises(CommandError, match="-o FILE"):
        call_command("export_cohort", "demo/2026", "--format", "dta")


def test_the_zip_holds_both_formats_and_the_r_script(cohort, tmp_path):
    data, _ = services.export_zip(cohort=cohort)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.read("read_cohort.R").decode() == R_SCRIPT
    archive.extractall(tmp_path)
    for format in FORMATS:
        for file in FILES:
            frame, meta = READ[format](tmp_path / f"demo-2026-{file}.{format}")
            table = pd.read_csv(tmp_path / f"demo-2026-{file}.csv", dtype=str)
            assert len(frame) == len(table) and meta.column_labels[0] == "program slug"
    assert "read_cohort.R" in archive.read("README.txt").decode()


def test_writing_a_labelled_file_takes_as_many_queries_for_more_dyads(tmp_path):
    def queries() -> int:
        cohort = Cohort.objects.select_related("program").get(program__slug="demo")
        with CaptureQueriesContext(connection) as captured:
            written(cohort, "sav", tmp_path)
        return len(captured)

    call_command("seed_demo", "--dyads", "4", "--waves", "2", verbosity=0)
    small = queries()
    call_command("seed_demo", "--dyads", "30", "--waves", "2", verbosity=0)
    assert queries() == small


def download(client, cohort: Cohort, format: str):
    return client.post("/exports/", {"cohort": cohort.pk, "format": format})


@pytest.mark.parametrize("format", FORMATS)
def test_the_exports_page_sends_both_files_to_an_admin_and_logs_it(client, cohort, format):
    client.force_login(User.objects.get(email="admin@example.org"))
    reply = archive_download(client, cohort, format)
    assert reply.status_code == 200 and reply["Content-Type"] == "application/zip"
    assert f'filename="demo-2026-{format}.zip"' in reply["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(reply.streaming_content)))
    assert sorted(archive.namelist()) == [f"demo-2026-{f}.{format}" for f in ("dyad", "respondent")]
    log = ExportLog.objects.get()
    rows = sum(len(csv_text(cohort, f)) for f in FILES)
    assert (log.format, log.rows, log.via, log.user.email) == (format, rows, "page",
                                                                "admin@example.org")  # fmt: skip


@pytest.mark.parametrize("email", ["mentor@example.org", "coordinator@example.org", "staff"])
def test_nobody_without_the_export_permission_gets_a_labelled_file(client, cohort, email):
    user = UserFactory(is_staff=True) if email == "staff" else User.objects.get(email=email)
    client.force_login(user)
    for format in FORMATS:
        assert download(client, cohort, format).status_code == 403
    assert not ExportLog.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(client, cohort):
    assert download(client, cohort, "sav").status_code == 302
    assert not ExportLog.objects.exists()


def test_staff_with_the_export_permission_get_the_labelled_files(client, cohort):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="export_cohort"))
    client.force_login(staff)
    reply = archive_download(client, cohort, "dta")
    assert reply.status_code == 200 and reply["Content-Type"] == "application/zip"
    # the file is for the one who asked, and only while they may export
    staff.user_permissions.clear()
    staff = User.objects.get(pk=staff.pk)  # no cached permissions
    client.force_login(staff)
    assert client.get(reply.wsgi_request.path).status_code == 404


def test_the_page_explains_every_file_and_links_the_guide(client, cohort):
    client.force_login(User.objects.get(email="admin@example.org"))
    page = client.get("/exports/").content.decode()
    for format in ("long", "respondent", "dyad", "pairwise", "codebook", "sav", "dta", "zip"):
        assert f'<option value="{format}"' in page and f"<code>{format}</code>" in page
    assert 'href="/exports/guide/"' in page
    guide = client.get("/exports/guide/").content.decode()
    assert "Research files" in guide and "read_cohort.R" in guide


# read_cohort.R cannot run here (no R on the machine); its text must agree with the
# codebook and with the labelled files' rules instead.


def r_vector(name: str) -> list[str]:
    found = re.search(rf"^{name} <- c\(([^)]*)\)", R_SCRIPT, re.M | re.S)
    return re.findall(r'(?:(\w+) = )?"([^"]*)"', found[1])


def r_string(name: str) -> str:
    return re.search(rf'^{name} <- "(.*)"$', R_SCRIPT, re.M)[1]


def test_the_r_script_reads_the_codebook_columns_the_export_writes(cohort):
    wanted = [value for _, value in r_vector("CODEBOOK_COLUMNS")]
    assert set(wanted) <= set(CODEBOOK_COLUMNS)
    used = set(re.findall(r"\b(?:entry|entries|codebook)\$(\w+)", R_SCRIPT))
    assert used and used <= set(wanted)
    header = next(csv.reader(io.StringIO(text_of(cohort, "codebook"))))
    assert set(wanted) <= set(header)


def test_the_r_script_reads_every_csv_file_and_knows_every_codebook_type(cohort):
    assert [v for _, v in r_vector("FILES")] == [f for f in services.FORMATS if f != "codebook"]
    types = {name for name, _ in r_vector("CLASSES")}
    assert set(csv_text(cohort, "codebook")["type"]) <= types
    assert dict(r_vector("CLASSES"))["float"] == "numeric"


def test_the_r_script_finds_values_and_labels_as_the_labelled_files_do():
    assert r_string("CATEGORIES") == f"^{labelled.CATEGORIES.pattern}$"
    assert r_string("POINT") == f"^{labelled.POINT.pattern}$"
    assert r_string("DATETIME") == labelled.DATETIME_FORMAT == selectors.UTC_FORMAT
    column = labelled.Column("CAR-SP-1", "", "integer", "", text_mentor="M", text_protege="P")
    assert column.description == "protégé: P | mentor: M"
    assert 'paste0("prot\\u00e9g\\u00e9: ", protege, " | mentor: ", mentor)' in R_SCRIPT
