"""`import_responses` loads a long file whole or not at all, and never overwrites."""

import pytest
from django.core.management import CommandError, call_command

from assessments.models import Answer, DyadWaveResult, Response
from assessments.research.services import export_stream
from relationships.models import Cohort, Dyad, Participant, Program

pytestmark = pytest.mark.django_db
HEADER = (
    "program,cohort,wave,dyad,respondent,role,instrument,instrument_version,item,battery,"
    "subscale,reverse_keyed,value,submitted_at"
)
GOOD = (
    "p,c,1,D-AAAAAA,P-MENTOR,mentor,continuum-default,1,"
    "{item},{battery},{sub},{rk},{v},2026-03-04T10:15:00Z"
)


def export(format: str) -> str:
    cohort = Cohort.objects.select_related("program").get(program__slug="demo")
    chunks, _ = export_stream(cohort=cohort, format=format)
    return "".join(chunks)


def wipe_demo() -> None:
    Response.objects.all().delete()
    Program.objects.all().delete()
    Participant.objects.all().delete()


@pytest.fixture
def demo():
    call_command("seed_demo", "--dyads", "12", "--waves", "3", verbosity=0)


def counts() -> tuple[int, ...]:
    return (Program.objects.count(), Dyad.objects.count(), Participant.objects.count(),
            Response.objects.count(), Answer.objects.count())  # fmt: skip


def test_export_import_export_gives_the_same_bytes(demo, tmp_path):
    long, dyad = export("long"), export("dyad")
    wipe_demo()
    assert not Response.objects.exists()
    path = tmp_path / "long.csv"
    path.write_text(long, encoding="utf-8", newline="")
    call_command("import_responses", str(path), verbosity=0)
    assert export("long") == long
    assert export("dyad") == dyad
    assert DyadWaveResult.objects.exists()


def test_importing_the_same_file_twice_changes_nothing(demo, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(export("long"), encoding="utf-8", newline="")
    before = counts()
    call_command("import_responses", str(path), verbosity=0)
    assert counts() == before


def line(item="REL-LG-1", battery="REL", sub="REL-LG", rk="false", v="5") -> str:
    return GOOD.format(item=item, battery=battery, sub=sub, rk=rk, v=v)


BROKEN_CODE = '"D-A\nA"'  # a quoted cell with a line break in it
ARABIC_THREE, FULL_WIDTH_ONE = "\u0663", "\uff11"  # digits to Python, not to the survey
BAD = {
    "empty file": (b"", "line 1: the file is empty"),
    "wrong header": (b"program,cohort\n", "line 1: the header must be exactly"),
    "unknown item": (f"{HEADER}\n{line(item='REL-XX-1')}\n", "line 2: REL-XX-1 is not an item"),
    "value 9 on a 7-point item": (f"{HEADER}\n{line(v='9')}\n", "line 2: value 9 is outside 1..7"),
    "text in a value": (f"{HEADER}\n{line(v='often')}\n", "line 2: value 'often' is not"),
    "duplicate answer": (f"{HEADER}\n{line()}\n{line()}\n", "line 3: duplicate answer to REL-LG-1"),
    "truncated last line": (
        f"{HEADER}\n{line()}\np,c,1,D-AAAAAA",
        "line 3: 4 fields instead of 14",
    ),
    "wrong encoding": (
        f"{HEADER}\n{line()}\n".encode() + "é\n".encode("latin-1"),
        "line 3: not UTF-8",
    ),
    "unknown instrument version": (
        f"{HEADER}\n{line().replace(',1,REL', ',9,REL')}\n",
        "unknown instrument continuum-default version 9",
    ),
    "mentor as his own protégé": (
        f"{HEADER}\n{line()}\n{line().replace(',mentor,', ',protege,')}\n",
        "line 3: P-MENTOR cannot be both mentor and protégé of dyad D-AAAAAA",
    ),
    "two submission times": (
        f"{HEADER}\n{line()}\n{line(item='REL-LG-2').replace('10:15', '11:15')}\n",
        "2 different submitted_at values",
    ),
    "NA on an item without NA": (
        f"{HEADER}\n{line(item='STR-1', battery='STR', sub='STR', v='')}\n",
        "line 2: STR-1 needs a value",
    ),
    "wrong role": (f"{HEADER}\n{line().replace(',mentor,', ',coach,')}\n", "must be mentor or"),
    "subscale that differs": (f"{HEADER}\n{line(sub='REL-TC')}\n", "differ from the instrument"),
    "code with a comma or a line break": (
        f"{HEADER}\n{line().replace('D-AAAAAA', BROKEN_CODE)}\n",
        "line 2: dyad 'D-A\\nA' must be letters, digits",
    ),
    "one dyad code in two cohorts": (
        f"{HEADER}\n{line()}\n{line(item='REL-LG-2').replace('p,c,', 'p,d,')}\n",
        "dyad D-AAAAAA appears in more than one cohort",
    ),
    "bad time": (
        f"{HEADER}\n{line().replace('2026-03-04T10:15:00Z', 'yesterday')}\n",
        "submitted_at 'yesterday'",
    ),
    "a cell over the CSV field limit": (
        f"{HEADER}\n{line()}\n{line(item='REL-LG-2', v='5' * 140_000)}\n",
        "line 3: a cell is longer than 131072 characters",
    ),
    "an Arabic-Indic digit as the value": (
        f"{HEADER}\n{line(v=ARABIC_THREE)}\n",
        f"line 2: value '{ARABIC_THREE}' is not a whole number",
    ),
    "a full-width digit as the wave": (
        f"{HEADER}\n{line().replace('p,c,1,', f'p,c,{FULL_WIDTH_ONE},')}\n",
        f"line 2: wave '{FULL_WIDTH_ONE}' must be a whole number",
    ),
    "a header and no answers": (f"{HEADER}\n", "line 2: the file holds no answers"),
    "a byte order mark and nothing else": (b"\xef\xbb\xbf", "line 1: the header must be"),
}


@pytest.mark.parametrize("kind", BAD)
def test_a_bad_file_is_refused_with_its_line_and_nothing_changes(demo, tmp_path, kind):
    content, message = BAD[kind]
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = counts()
    with pytest.raises(CommandError, match="nothing was loaded") as error:
        call_command("import_responses", str(path))
    assert message in str(error.value)
    assert counts() == before


def test_conflicting_answers_are_refused_and_nothing_is_overwritten(demo, tmp_path):
    long = export("long").splitlines()
    header, first = long[0], long[1].split(",")
    first[12] = "1" if first[12] != "1" else "2"
    path = tmp_path / "conflict.csv"
    path.write_text("\r\n".join([header, ",".join(first)]) + "\r\n")
    before = sorted(Answer.objects.values_list("id", "value"))
    with pytest.raises(CommandError, match="nothing is overwritten"):
        call_command("import_responses", str(path))
    assert sorted(Answer.objects.values_list("id", "value")) == before


def test_an_import_makes_the_same_number_of_queries_for_few_and_many_responses(tmp_path):
    from django.core.management import call_command as run
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(dyads: int, name: str) -> int:
        run("seed_demo", "--dyads", str(dyads), "--waves", "2", "--cohort", name, verbosity=0)
        cohort = Cohort.objects.select_related("program").get(program__slug="demo", slug=name)
        text = "".join(export_stream(cohort=cohort, format="long")[0])
        Response.objects.filter(wave__cohort=cohort).delete()
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8", newline="")
        with CaptureQueriesContext(connection) as captured:
            run("import_responses", str(path), verbosity=0)
        return len([q for q in captured if "INSERT" not in q["sql"]])

    assert queries(3, "small") == queries(30, "large")
