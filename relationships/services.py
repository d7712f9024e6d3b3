"""Writes of the relationships app: cohorts, dyads and the dyad import (DESIGN §6.1).

Each service is keyword-only, atomic and validates before saving. The CSV import is
all rows or none: ``dyads_import`` raises ``DyadImportError`` with a row-by-row report
and writes nothing when any row is wrong. Its queries do not grow with the file. The
names a file gives are stored on the dyad it creates, never over a participant's name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .codes import fresh_codes
from .models import Cohort, Dyad, Participant, Program, User

REQUIRED_COLUMNS = ("mentor_email", "mentor_name", "protege_email", "protege_name")
OPTIONAL_COLUMNS = ("kind", "supervisory", "started_on")
TRUE_WORDS = {"1", "true", "yes", "y"}
FALSE_WORDS = {"", "0", "false", "no", "n"}
MAX_ROWS = 10_000
PRIVILEGED = "an address of a staff or coordinator account cannot be added by an import"
MAX_NAME = 200  # Participant.name
MAX_EMAIL = 254  # RFC 5321's limit, what an EmailField holds


# --- cohorts ------------------------------------------------------------------------------


@transaction.atomic
def cohort_create(
    *, program: Program, name: str, slug: str = "", started_on: dt.date | None = None
) -> Cohort:
    """A new cohort of ``program``; the slug defaults to the slugified name.

    Raises ``ValidationError`` when the slug is empty or already used in the program.
    """
    slug = slugify(slug or name)[:60]
    if not slug:
        raise ValidationError({"slug": _("Give the cohort a name or slug with letters.")})
    if program.cohorts.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This program already has a cohort “%s”.") % slug})
    return Cohort.objects.create(
        program=program, name=name.strip(), slug=slug, started_on=started_on or timezone.localdate()
    )


# --- dyads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DyadRow:
    """One dyad to create, as read from a CSV line or a form."""

    line: int
    mentor_email: str
    mentor_name: str
    protege_email: str
    protege_name: str
    kind: str = Dyad.Kind.FORMAL
    supervisory: bool = False
    started_on: dt.date | None = None


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return _("line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


class DyadImportError(ValidationError):
    """Every problem of an import, row by row; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__([str(problem) for problem in problems])


@dataclass
class ImportPlan:
    """What an import will do (preview) or did: rows, new people, problems."""

    rows: list[DyadRow] = field(default_factory=list)
    new_people: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    dyads: list[Dyad] = field(default_factory=list)


def dyad_rows_read(text: str) -> tuple[list[DyadRow], list[Problem]]:
    """Parse the ``import_dyads`` CSV (header row, RFC 4180, UTF-8 with or without BOM).

    Columns ``mentor_email, mentor_name, protege_email, protege_name`` and optional
    ``kind`` (formal/informal), ``supervisory`` (yes/no) and ``started_on``
    (YYYY-MM-DD). Returns the rows that parse and one ``Problem`` per bad cell or line;
    line numbers count the header as line 1.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    read: list[int] = []  # line numbers read in full; the header is line 1
    try:
        return _records(reader, read)
    except csv.Error:
        # The csv module refuses cells over its field limit (128 KiB) and stray quotes.
        line = read[-1] + 1 if read else 1
        return [], [Problem(line, _("this line is not valid CSV or a cell is far too long"))]


def _records(reader: csv.DictReader, read: list[int]) -> tuple[list[DyadRow], list[Problem]]:
    header = [name.strip() for name in reader.fieldnames or []]
    read.append(1)
    problems = _header_problems(header)
    if problems:
        return [], problems
    reader.fieldnames = header
    rows: list[DyadRow] = []
    for number, record in enumerate(reader, start=2):
        read.append(number)
        if number - 1 > MAX_ROWS:
            problems.append(Problem(number, _("more than %d rows; split the file") % MAX_ROWS))
            break
        if not any((value or "").strip() for value in record.values()):
            continue
        row, found = _row(number, record)
        rows += [row] if row else []
        problems += found
    return rows, problems


def _header_problems(header: list[str]) -> list[Problem]:
    if not header:
        return [Problem(1, _("the file is empty; expected a header row"))]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)]
    problems = [Problem(1, _("missing column “%s”") % name) for name in missing]
    problems += [Problem(1, _("unknown column “%s”") % name) for name in unknown]
    return problems


def _row(number: int, record: dict[str, str | None]) -> tuple[DyadRow | None, list[Problem]]:
    cell = {key: (value or "").strip() for key, value in record.items() if key}
    if None in record:
        return None, [Problem(number, _("more cells than columns"))]
    if any("\x00" in value for value in cell.values()):
        return None, [Problem(number, _("a cell holds a NUL character"))]
    problems = []
    for role in ("mentor", "protege"):
        problems += _person_problems(number, role, cell[f"{role}_name"], cell[f"{role}_email"])
    kind = (cell.get("kind") or Dyad.Kind.FORMAL).lower()
    if kind not in Dyad.Kind.values:
        problems.append(Problem(number, _("kind must be formal or informal")))
    supervisory = (cell.get("supervisory") or "").lower()
    if supervisory not in TRUE_WORDS | FALSE_WORDS:
        problems.append(Problem(number, _("supervisory must be yes or no")))
    started_on = _date(cell.get("started_on") or "")
    if started_on is False:
        problems.append(Problem(number, _("started_on must be a date as YYYY-MM-DD")))
    if problems:
        return None, problems
    return (
        DyadRow(
            line=number,
            mentor_email=cell["mentor_email"].lower(),
            mentor_name=cell["mentor_name"],
            protege_email=cell["protege_email"].lower(),
            protege_name=cell["protege_name"],
            kind=kind,
            supervisory=supervisory in TRUE_WORDS,
            started_on=started_on or None,
        ),
        [],
    )


def _person_problems(number: int, role: str, name: str, email: str) -> list[Problem]:
    problems = []
    if not name:
        problems.append(Problem(number, _("%s_name is empty") % role))
    elif len(name) > MAX_NAME:
        problems.append(
            Problem(number, _("%(role)s_name is longer than %(n)d characters") % {
                "role": role, "n": MAX_NAME})
        )  # fmt: skip
    try:
        if len(email) > MAX_EMAIL:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        problems.append(Problem(number, _("%s_email is not an email address") % role))
    return problems


def _date(text: str) -> dt.date | None | bool:
    """The ISO date, None when empty, False when it does not parse."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return False


def dyads_plan(*, cohort: Cohort, rows: list[DyadRow]) -> ImportPlan:
    """Check rows against each other and the database (three queries); write nothing."""
    problems = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        pair = (row.mentor_email, row.protege_email)
        if row.mentor_email == row.protege_email:
            problems.append(Problem(row.line, _("mentor and protégé are the same person")))
        elif pair in seen:
            problems.append(Problem(row.line, _("repeats the pair of line %d") % seen[pair]))
        seen.setdefault(pair, row.line)
    emails = {email for row in rows for email in (row.mentor_email, row.protege_email)}
    people = _people(emails)
    active = _active_pairs(cohort, people)
    privileged = _privileged(emails)
    for row in rows:
        mentor, protege = people.get(row.mentor_email), people.get(row.protege_email)
        if mentor and protege and (mentor.pk, protege.pk) in active:
            problems.append(Problem(row.line, _("this pair already has an active dyad here")))
        if {row.mentor_email, row.protege_email} & privileged:
            problems.append(Problem(row.line, _(PRIVILEGED)))
    # "New" means new to this program, so the preview reads the same whether or not an
    # address is known in another program.
    known = _in_program(cohort.program, emails)
    new_people = sorted(email for email in emails if email not in known)
    return ImportPlan(rows=rows, new_people=new_people, problems=sorted(problems, key=_line))


def _line(problem: Problem) -> int:
    return problem.line


def _people(emails: Iterable[str]) -> dict[str, Participant]:
    """Existing participants by (lower-case) email, one query."""
    found = Participant.objects.filter(user__email__in=set(emails)).select_related("user")
    return {participant.user.email: participant for participant in found}


def _privileged(emails: Iterable[str]) -> set[str]:
    """Addresses of staff, superuser and coordinator accounts: never made participants by
    an import (an admin links such an account explicitly), one query."""
    users = User.objects.filter(email__in=set(emails)).filter(
        Q(is_staff=True) | Q(is_superuser=True) | Q(coordinator_memberships__isnull=False)
    )
    return set(users.values_list("email", flat=True))


def _in_program(program: Program, emails: Iterable[str]) -> set[str]:
    """Addresses of participants already in a dyad of ``program``, one query."""
    dyads = Dyad.objects.filter(cohort__program=program)
    found = Participant.objects.filter(user__email__in=set(emails)).filter(
        Q(pk__in=dyads.values("mentor_id")) | Q(pk__in=dyads.values("protege_id"))
    )
    return set(found.values_list("user__email", flat=True))


def _active_pairs(cohort: Cohort, people: dict[str, Participant]) -> set[tuple[int, int]]:
    ids = [participant.pk for participant in people.values()]
    pairs = Dyad.objects.active().filter(cohort=cohort, mentor_id__in=ids, protege_id__in=ids)
    return set(pairs.values_list("mentor_id", "protege_id"))


def dyads_preview(*, cohort: Cohort, text: str) -> ImportPlan:
    """Parse and check a CSV without writing: rows, new people and every problem."""
    rows, problems = dyad_rows_read(text)
    plan = dyads_plan(cohort=cohort, rows=rows)
    plan.problems = sorted(problems + plan.problems, key=_line)
    return plan


@transaction.atomic
def dyads_import(*, cohort: Cohort, text: str) -> ImportPlan:
    """Create every dyad of the CSV, with users and participants as needed, or none.

    New users get no usable password (they sign in by magic link). Raises
    ``DyadImportError`` listing every problem when any row is wrong.
    """
    plan = dyads_preview(cohort=cohort, text=text)
    if plan.problems:
        raise DyadImportError(plan.problems)
    if not plan.rows:
        raise DyadImportError([Problem(1, _("the file has no dyads"))])
    plan.dyads = _dyads_create(cohort, plan.rows)
    return plan


@transaction.atomic
def dyad_create(*, cohort: Cohort, row: DyadRow) -> Dyad:
    """One dyad (from a form) through the import's checks. Raises ``DyadImportError``."""
    plan = dyads_plan(cohort=cohort, rows=[row])
    if plan.problems:
        raise DyadImportError(plan.problems)
    return _dyads_create(cohort, [row])[0]


def _dyads_create(cohort: Cohort, rows: list[DyadRow]) -> list[Dyad]:
    people = _participants_ensure(rows)
    codes = fresh_codes(Dyad, "D", len(rows))
    return Dyad.objects.bulk_create(
        [
            Dyad(
                cohort=cohort,
                mentor=people[row.mentor_email],
                protege=people[row.protege_email],
                mentor_name=row.mentor_name,
                protege_name=row.protege_name,
                kind=row.kind,
                supervisory=row.supervisory,
                started_on=row.started_on or timezone.localdate(),
                research_code=code,
            )
            for row, code in zip(rows, codes, strict=True)
        ]
    )


def _participants_ensure(rows: list[DyadRow]) -> dict[str, Participant]:
    """Participants for every email of the rows, creating users and participants.

    A person who exists already keeps their name and account as they are: the names of
    the rows go to the dyads (``Dyad.mentor_name``, ``protege_name``), so an import never
    changes, nor shows, what another program or the person set.
    """
    names: dict[str, str] = {}
    for row in rows:
        names.setdefault(row.mentor_email, row.mentor_name)
        names.setdefault(row.protege_email, row.protege_name)
    users = {user.email: user for user in User.objects.filter(email__in=list(names))}
    unusable = make_password(None)
    User.objects.bulk_create(
        [_user(email, names[email], unusable) for email in names if email not in users]
    )
    users = {user.email: user for user in User.objects.filter(email__in=list(names))}
    people = _people(names)
    new = [(email, name) for email, name in names.items() if email not in people]
    codes = fresh_codes(Participant, "P", len(new))
    Participant.objects.bulk_create(
        [
            Participant(user=users[email], name=name, research_code=code)
            for (email, name), code in zip(new, codes, strict=True)
        ]
    )
    return _people(names)


def _user(email: str, name: str, password: str) -> User:
    first, _space, last = name.partition(" ")
    return User(email=email, first_name=first[:150], last_name=last[:150], password=password)


@transaction.atomic
def dyad_end(*, dyad: Dyad, ended_on: dt.date | None = None) -> Dyad:
    """End an active dyad: it leaves the active list; its history stays.

    Raises ``ValidationError`` when it has ended already or the date is before its start.
    """
    ended_on = ended_on or timezone.localdate()
    if not dyad.is_active:
        raise ValidationError(_("This dyad has already ended."))
    if ended_on < dyad.started_on:
        raise ValidationError({"ended_on": _("A dyad cannot end before it starts.")})
    dyad.is_active = False
    dyad.ended_on = ended_on
    dyad.save(update_fields=["is_active", "ended_on"])
    return dyad
