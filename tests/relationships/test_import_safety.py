"""A dyad import reveals nothing about people outside the coordinator's programs, never
turns a privileged account into a participant, and refuses malformed cells row by row."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from relationships.models import Dyad, Participant, User
from relationships.services import PRIVILEGED, dyads_preview
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "mentor_email,mentor_name,protege_email,protege_name\n"


def csv_of(*rows: str) -> str:
    return HEADER + "".join(f"{row}\n" for row in rows)


def preview(cohort, text: str):
    plan = dyads_preview(cohort=cohort, text=text)
    return len(plan.new_people), [(p.line, p.message) for p in plan.problems]


def test_the_preview_reads_the_same_whether_or_not_an_address_is_known_elsewhere(cast):
    elsewhere = factories.CohortFactory(program=cast.other_program)
    factories.DyadFactory(
        cohort=elsewhere, mentor__user__email="known@example.org", mentor__name="Secret Name"
    )
    known = preview(cast.cohort, csv_of("known@example.org,Ann,p1@example.org,Pat"))
    unknown = preview(cast.cohort, csv_of("fresh@example.org,Ann,p1@example.org,Pat"))
    assert known == unknown == (2, [])


def pages_of(client, cast, code: str) -> dict[str, str]:
    """Every page the cast's coordinator can open about the cohort and the dyad ``code``."""
    cohort = f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/"
    urls = [
        "/coordinate/", f"/coordinate/{cast.program.slug}/", cohort, cohort + "?status=all",
        cohort + "?sort=mentor", cohort + "?q=Bea", cohort + "alerts/",
        cohort + "psychometrics/", cohort + "manage/", cohort + "manage/dyads/import/",
        cohort + f"dyads/{code}/",
    ]  # fmt: skip
    pages = {url: client.get(url) for url in urls}
    assert {url: page.status_code for url, page in pages.items()} == dict.fromkeys(urls, 200)
    return {url: page.content.decode() for url, page in pages.items()}


def test_an_import_never_shows_the_name_another_program_gave_a_person(client, cast):
    from tests.coordinate.builders import add_waves

    elsewhere = factories.CohortFactory(program=cast.other_program)
    theirs = factories.DyadFactory(
        cohort=elsewhere, mentor__user__email="bea@example.org", mentor__name="Bea Secret"
    )
    add_waves(cast.cohort, 1, open_last=True)  # alerts and reminders name the partners
    client.force_login(cast.coordinator)
    url = f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/manage/dyads/import/"
    text = csv_of("bea@example.org,Bea Ours,nia@example.org,Nia")
    file = SimpleUploadedFile("dyads.csv", text.encode(), "text/csv")
    preview = client.post(url, {"file": file})
    done = client.post(url, {"csv_text": text}, follow=True)
    assert done.status_code == 200 and "Imported 1 dyads" in done.content.decode()
    ours = Dyad.objects.get(cohort=cast.cohort, mentor=theirs.mentor)
    pages = {"preview": preview.content.decode(), "result": done.content.decode()}
    pages |= pages_of(client, cast, ours.research_code)
    assert [url for url, page in pages.items() if "Secret" in page] == []
    search = client.get(f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/?q=Secret")
    assert list(search.context["dashboard"].page.object_list) == []
    assert "Bea Ours" in pages[f"/coordinate/bridges/2026/dyads/{ours.research_code}/"]
    assert "Bea Ours" in pages["/coordinate/bridges/2026/alerts/"]
    assert ours.mentor_name == "Bea Ours" and ours.protege_name == "Nia"
    theirs.refresh_from_db()
    assert theirs.mentor.name == theirs.mentor_name == "Bea Secret"


def test_the_coordinators_frames_carry_the_names_their_program_gave(cast):
    from assessments.coordinate.selectors.frames import dyads_frame

    Participant.objects.filter(pk=cast.mentor.pk).update(name="Named Elsewhere")
    Dyad.objects.filter(pk=cast.dyad.pk).update(mentor_name="Named Here")
    frame = dyads_frame(cohorts=[cast.cohort], names=True).set_index("code")
    assert frame.loc[cast.dyad.research_code, "mentor"] == "Named Here"


def test_people_already_in_the_program_are_not_counted_as_new(cast):
    mentor_email = cast.mentor.user.email
    count, problems = preview(cast.cohort, csv_of(f"{mentor_email},Ann,p9@example.org,Pat"))
    assert (count, problems) == (1, [])


@pytest.mark.parametrize("kind", ["superuser", "staff", "coordinator"])
def test_privileged_accounts_never_become_participants_through_an_import(cast, kind, tmp_path):
    email = {
        "superuser": cast.admin.email,
        "staff": factories.UserFactory(email="staff@example.org", is_staff=True).email,
        "coordinator": cast.other_coordinator.email,
    }[kind]
    text = csv_of(f"{email},Boss,p1@example.org,Pat")
    assert preview(cast.cohort, text)[1] == [(2, PRIVILEGED)]
    with pytest.raises(CommandError):
        call_command("import_dyads", _file(tmp_path, text), "--cohort", "bridges/2026")
    assert not Participant.objects.filter(user__email=email).exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("m@example.org," + "N" * 201 + ",p@example.org,Pat", "longer than 200"),
        ("m" * 250 + "@example.org,Ann,p@example.org,Pat", "not an email address"),
        ("m@example.org,An\x00n,p@example.org,Pat", "NUL character"),
        ("m@example.org," + "x" * 140_000 + ",p@example.org,Pat", "far too long"),
    ],
)
def test_malformed_cells_are_refused_by_row_and_nothing_is_written(cast, row, message, tmp_path):
    before = Dyad.objects.count()
    problems = preview(cast.cohort, csv_of(row))[1]
    assert len(problems) == 1 and problems[0][0] == 2 and message in problems[0][1]
    with pytest.raises(CommandError):
        call_command("import_dyads", _file(tmp_path, csv_of(row)), "--cohort", "bridges/2026")
    assert Dyad.objects.count() == before


def test_formula_like_names_are_kept_as_text_and_neutralised_in_files(cast):
    from assessments.cells import neutralise

    text = csv_of("m@example.org,=HYPERLINK(1),p@example.org,+Pat")
    assert preview(cast.cohort, text)[1] == []
    assert neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)"


def _file(folder, text: str) -> str:
    path = folder / "dyads.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


FORMULA_NAMES = ("=HYPERLINK(1)", "+Pat", "-Dash", "@At")


def formula_cells(text: str) -> list[str]:
    """Cells of a CSV text a spreadsheet would run as a formula."""
    from assessments.cells import neutralise

    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    return [cell for cell in cells if neutralise(cell) != cell]


def test_formula_like_names_reach_no_file_unneutralised(client, tmp_path):
    from assessments.privacy import participant_csv, participant_data
    from assessments.research.services import FORMATS, export_stream

    call_command("seed_demo", "--dyads", "2", "--waves", "1", verbosity=0)
    cohort = Dyad.objects.get(mentor__user__email="mentor@example.org").cohort
    text = csv_of(
        f"mentor@example.org,{FORMULA_NAMES[0]},p@example.org,{FORMULA_NAMES[1]}",
        f"m@example.org,{FORMULA_NAMES[2]},p@example.org,{FORMULA_NAMES[3]}",
    )
    call_command("import_dyads", _file(tmp_path, text), "--cohort", cohort.path, verbosity=0)
    assert Dyad.objects.filter(mentor_name__in=FORMULA_NAMES).count() == 2
    files = {name: "".join(export_stream(cohort=cohort, format=name)[0]) for name in FORMATS}
    for email in ("mentor@example.org", "p@example.org", "m@example.org"):
        person = Participant.objects.get(user__email=email)
        files[email] = participant_csv(participant_data(participant=person))
    assert {name: formula_cells(text) for name, text in files.items()} == dict.fromkeys(files, [])
    client.force_login(User.objects.get(email="coordinator@example.org"))
    page = client.get(f"/coordinate/{cohort.program.slug}/{cohort.slug}/?sort=mentor").text
    assert "=HYPERLINK(1)" in page  # shown as the text it is, on a page, not in a file
