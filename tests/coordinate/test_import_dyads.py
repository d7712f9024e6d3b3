"""Importing dyads from CSV (DESIGN §6.1): all rows or none, with a row-by-row report,
from the command line and from the coordinator's import page."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relationships.models import Dyad, Participant, User
from relationships.services import DyadImportError, dyads_import, dyads_preview
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "mentor_email,mentor_name,protege_email,protege_name,kind,supervisory,started_on\n"


def csv_of(*rows: str, header: str = HEADER) -> str:
    return header + "".join(f"{row}\n" for row in rows)


def pairs(count: int, start: int = 0) -> str:
    return csv_of(
        *[
            f"m{i}@example.org,Mentor {i},p{i}@example.org,Protégé {i},,,"
            for i in range(start, start + count)
        ]
    )


def problems_of(cohort, text: str) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in dyads_preview(cohort=cohort, text=text).problems]


# --- the service ---------------------------------------------------------------------------


def test_a_valid_file_creates_dyads_users_and_participants(cast):
    text = csv_of(
        "ada@example.org,Ada Lovelace,bo@example.org,Bo Diddley,informal,yes,2026-02-01",
        'ada@example.org,Ada Lovelace,cy@example.org,"Cy Twombly, Jr.",formal,no,',
    )
    plan = dyads_import(cohort=cast.cohort, text=text)
    assert len(plan.dyads) == 2 and plan.new_people == [
        "ada@example.org",
        "bo@example.org",
        "cy@example.org",
    ]
    first = Dyad.objects.get(protege__user__email="bo@example.org")
    assert (first.kind, first.supervisory, str(first.started_on)) == (
        "informal",
        True,
        "2026-02-01",
    )
    assert Participant.objects.get(user__email="cy@example.org").name == "Cy Twombly, Jr."
    ada = User.objects.get(email="ada@example.org")
    assert (ada.first_name, ada.last_name) == ("Ada", "Lovelace")
    assert not ada.has_usable_password()
    assert Participant.objects.filter(user=ada).count() == 1


def test_people_who_already_exist_are_reused(cast):
    text = csv_of(f"{cast.mentor.email},Someone Else,new@example.org,New Person,,,")
    plan = dyads_import(cohort=cast.cohort, text=text)
    assert plan.new_people == ["new@example.org"]
    assert plan.dyads[0].mentor == cast.mentor
    cast.mentor.refresh_from_db()
    assert cast.mentor.name != "Someone Else"


def test_emails_are_matched_without_regard_to_case(cast):
    text = csv_of(f"{cast.mentor.email.upper()},X,NEW@Example.org,New Person,,,")
    plan = dyads_import(cohort=cast.cohort, text=text)
    assert plan.dyads[0].mentor == cast.mentor
    assert User.objects.filter(email="new@example.org").exists()


def test_only_the_four_name_and_email_columns_are_required(cast):
    header = "protege_name,protege_email,mentor_name,mentor_email\n"
    plan = dyads_import(cohort=cast.cohort, text=header + "Bo,bo@example.org,Ada,ada@example.org\n")
    assert plan.dyads[0].kind == "formal" and not plan.dyads[0].supervisory


def test_a_byte_order_mark_and_blank_lines_are_tolerated(cast):
    text = "\ufeff" + pairs(2) + "\n,,,,,,\n"
    assert len(dyads_import(cohort=cast.cohort, text=text).dyads) == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("not-an-email,Ada,bo@example.org,Bo,,,", "mentor_email is not an email address"),
        ("ada@example.org,Ada,bo@example.org,,,,", "protege_name is empty"),
        ("ada@example.org,Ada,ADA@example.org,Ada,,,", "mentor and protégé are the same person"),
        ("ada@example.org,Ada,bo@example.org,Bo,casual,,", "kind must be formal or informal"),
        ("ada@example.org,Ada,bo@example.org,Bo,,maybe,", "supervisory must be yes or no"),
        ("ada@example.org,Ada,bo@example.org,Bo,,,1/2/2026", "started_on must be a date"),
        ("ada@example.org,Ada,bo@example.org,Bo,,,,extra", "more cells than columns"),
    ],
)
def test_each_bad_row_is_reported_with_its_line(cast, row, message):
    problems = problems_of(cast.cohort, pairs(2) + row + "\n")
    assert len(problems) == 1
    line, text = problems[0]
    assert line == 4 and text.startswith(message)


def test_a_pair_repeated_in_the_file_is_reported_on_its_second_line(cast):
    problems = problems_of(cast.cohort, pairs(3) + pairs(1, start=1).split("\n", 1)[1])
    assert problems == [(5, "repeats the pair of line 3")]


def test_a_pair_already_active_in_the_cohort_is_reported(cast):
    text = csv_of(f"{cast.mentor.email},M,{cast.protege.email},P,,,")
    assert problems_of(cast.cohort, text) == [(2, "this pair already has an active dyad here")]


def test_a_pair_active_in_another_cohort_may_start_here(cast):
    other = factories.CohortFactory(program=cast.program)
    text = csv_of(f"{cast.mentor.email},M,{cast.protege.email},P,,,")
    assert len(dyads_import(cohort=other, text=text).dyads) == 1


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("mentor_email,mentor_name,protege_email\n", "missing column “protege_name”"),
        (HEADER.strip() + ",notes\n", "unknown column “notes”"),
    ],
)
def test_a_wrong_header_is_reported_on_line_one(cast, header, message):
    problems = problems_of(cast.cohort, header + "a@example.org,A,b@example.org,B\n")
    assert (1, message) in [(line, text[: len(message)]) for line, text in problems]


def test_an_empty_file_is_reported(cast):
    assert problems_of(cast.cohort, "") == [(1, "the file is empty; expected a header row")]


def test_one_bad_row_imports_nothing_and_reports_every_problem(cast):
    before = (Dyad.objects.count(), User.objects.count(), Participant.objects.count())
    text = pairs(5) + "bad,Bad,also-bad,,,,\n"
    with pytest.raises(DyadImportError) as raised:
        dyads_import(cohort=cast.cohort, text=text)
    assert [(p.line, p.message) for p in raised.value.problems] == [
        (7, "mentor_email is not an email address"),
        (7, "protege_name is empty"),
        (7, "protege_email is not an email address"),
    ]
    assert (Dyad.objects.count(), User.objects.count(), Participant.objects.count()) == before


def test_an_import_makes_a_few_batched_queries_rather_than_one_per_row(cast):
    def counted(text: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            dyads_import(cohort=cast.cohort, text=text)
        return len(captured)

    few, many = counted(pairs(5)), counted(pairs(200, start=5))
    # including the checks of fresh participant and dyad codes, of privileged accounts and
    # of people already in the program
    assert few <= 14
    assert many <= few + 10  # only SQLite's bulk insert batches grow, 600 new rows in all


# --- the command ---------------------------------------------------------------------------


def test_the_command_imports_a_file_into_a_cohort(cast, tmp_path, capsys):
    path = tmp_path / "dyads.csv"
    path.write_text(pairs(3), encoding="utf-8")
    call_command("import_dyads", str(path), "--cohort", cast.cohort.path)
    assert "Imported 3 dyads into bridges/2026 (6 new participants)" in capsys.readouterr().out
    assert cast.cohort.dyads.count() == 2 + 3


def test_the_command_reports_each_problem_and_imports_nothing(cast, tmp_path, capsys):
    path = tmp_path / "dyads.csv"
    path.write_text(pairs(2) + "x,X,y,Y,,,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_dyads", str(path), "--cohort", cast.cohort.path)
    assert "line 4: mentor_email is not an email address" in capsys.readouterr().err
    assert cast.cohort.dyads.count() == 2


def test_the_command_checks_without_writing_on_a_dry_run(cast, tmp_path, capsys):
    path = tmp_path / "dyads.csv"
    path.write_text(pairs(3), encoding="utf-8")
    call_command("import_dyads", str(path), "--cohort", cast.cohort.path, "--dry-run")
    assert "Would import 3 dyads" in capsys.readouterr().out
    assert cast.cohort.dyads.count() == 2


def test_the_command_refuses_an_unknown_cohort(cast, tmp_path):
    path = tmp_path / "dyads.csv"
    path.write_text(pairs(1), encoding="utf-8")
    with pytest.raises(CommandError, match="No cohort 'bridges/nope'"):
        call_command("import_dyads", str(path), "--cohort", "bridges/nope")


# --- the import page -----------------------------------------------------------------------


def upload(client, cast, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/manage/dyads/import/"
    return client.post(url, {"file": SimpleUploadedFile("d.csv", text.encode(), "text/csv")})


def test_the_page_previews_the_file_and_imports_it_on_confirmation(client, cast):
    client.force_login(cast.coordinator)
    preview = upload(client, cast, pairs(3))
    assert preview.status_code == 200
    assert len(preview.context["plan"].rows) == 3 and cast.cohort.dyads.count() == 2
    assert "Ready to import 3 dyads with 6 new participants" in preview.content.decode()
    url = f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/manage/dyads/import/"
    confirmed = client.post(url, {"csv_text": preview.context["confirm"].initial["csv_text"]})
    assert confirmed.status_code == 302
    assert cast.cohort.dyads.count() == 5


def test_the_page_shows_the_problems_row_by_row_and_offers_no_import(client, cast):
    client.force_login(cast.coordinator)
    page = upload(client, cast, pairs(2) + "x,X,y,Y,,,\n").content.decode()
    assert "mentor_email is not an email address" in page
    assert 'name="csv_text"' not in page


def test_a_confirmation_is_checked_again_before_writing(client, cast):
    client.force_login(cast.coordinator)
    url = f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/manage/dyads/import/"
    response = client.post(url, {"csv_text": pairs(2) + "x,X,y,Y,,,\n"})
    assert response.status_code == 400
    assert cast.cohort.dyads.count() == 2


def test_another_programs_coordinator_cannot_import(client, cast):
    client.force_login(cast.other_coordinator)
    assert upload(client, cast, pairs(1)).status_code == 404
    assert cast.cohort.dyads.count() == 2


MALFORMED = {
    "a name over 200 characters": ("N" * 201, "longer than 200"),
    "an email over 254 characters": ("email", "not an email address"),
    "a NUL character": ("An\x00n", "NUL character"),
    "a cell over the CSV field limit": ("x" * 140_000, "far too long"),
}


def malformed_file(kind: str) -> str:
    name, _message = MALFORMED[kind]
    if name == "email":
        return pairs(1) + "m" * 250 + "@example.org,Ann,p@example.org,Pat,,,\n"
    return pairs(1) + f"m@example.org,{name},p@example.org,Pat,,,\n"


def people_and_dyads() -> tuple[int, int, int]:
    return Dyad.objects.count(), User.objects.count(), Participant.objects.count()


@pytest.mark.parametrize("kind", MALFORMED)
def test_the_page_refuses_a_malformed_cell_by_row_when_previewing(client, cast, kind):
    client.force_login(cast.coordinator)
    before = people_and_dyads()
    page = upload(client, cast, malformed_file(kind))
    assert page.status_code == 200
    problems = [(p.line, p.message) for p in page.context["plan"].problems]
    assert len(problems) == 1 and problems[0][0] == 3 and MALFORMED[kind][1] in problems[0][1]
    assert 'name="csv_text"' not in page.content.decode()
    assert people_and_dyads() == before


@pytest.mark.parametrize("kind", MALFORMED)
def test_the_page_refuses_a_malformed_cell_by_row_when_confirming(client, cast, kind):
    client.force_login(cast.coordinator)
    before = people_and_dyads()
    url = f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/manage/dyads/import/"
    page = client.post(url, {"csv_text": malformed_file(kind)})
    assert page.status_code == 400
    problems = [(p.line, p.message) for p in page.context["problems"]]
    assert len(problems) == 1 and problems[0][0] == 3 and MALFORMED[kind][1] in problems[0][1]
    assert people_and_dyads() == before
