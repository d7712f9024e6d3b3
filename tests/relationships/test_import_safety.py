"""A dyad import reveals nothing about people outside the coordinator's programs, never
turns a privileged account into a participant, and refuses malformed cells row by row."""

import pytest
from django.core.management import CommandError, call_command

from relationships.models import Dyad, Participant
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
