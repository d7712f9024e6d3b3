"""What a coordinator may see (DESIGN §7): their programs, cohorts and dyads.

Holders of ``EVERY_PROGRAM`` (and superusers) see every program; staff status alone
opens none. Each read is one query for a coordinator of the program; ``None`` means
"not found for this user", which the views turn into 404 (or 403 for someone who
coordinates nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db.models import Count, QuerySet

from relationships.models import Cohort, CoordinatorMembership, Dyad, Program, User

EVERY_PROGRAM = "assessments.coordinate_all_programs"

Found = TypeVar("Found")


def coordinates_every_program(*, user: User) -> bool:
    """Whether ``user`` holds the named permission to coordinate every program.

    Superusers hold it implicitly; ``is_staff`` does not grant it. ``has_perm`` caches
    the user's permissions, so asking twice in a request costs no second query.
    """
    return user.has_perm(EVERY_PROGRAM)


def _own_first(user: User, lookup: Callable[[QuerySet[Program]], Found | None]) -> Found | None:
    """``lookup`` among the user's own programs, then among all of them for holders of
    ``EVERY_PROGRAM``: a coordinator's own pages never pay for the permission check."""
    found = lookup(Program.objects.for_coordinator(user))
    if found is None and coordinates_every_program(user=user):
        found = lookup(Program.objects.for_coordinator(user, every_program=True))
    return found


def programs_for(*, user: User) -> QuerySet[Program]:
    """The programs a user coordinates (every program with ``EVERY_PROGRAM``), with
    cohort counts."""
    every = coordinates_every_program(user=user)
    allowed = Program.objects.for_coordinator(user, every_program=every)
    return allowed.annotate(cohort_count=Count("cohorts"))


def program_for(*, user: User, program: str) -> Program | None:
    """The program with slug ``program`` when ``user`` may coordinate it, else None."""
    return _own_first(user, lambda allowed: allowed.filter(slug=program).first())


def cohort_for(*, user: User, program: str, cohort: str) -> Cohort | None:
    """The cohort ``program/cohort`` when ``user`` may coordinate it, else None."""

    def lookup(allowed: QuerySet[Program]) -> Cohort | None:
        found = Cohort.objects.select_related("program").filter(program__in=allowed)
        return found.filter(program__slug=program, slug=cohort).first()

    return _own_first(user, lookup)


def dyad_for(*, cohort: Cohort, code: str) -> Dyad | None:
    """The cohort's dyad with research code ``code`` and its partners' users, else None."""
    dyads = Dyad.objects.select_related("mentor__user", "protege__user")
    return dyads.filter(cohort=cohort, research_code=code).first()


def coordinates_any(*, user: User) -> bool:
    """Whether ``user`` coordinates at least one program or holds ``EVERY_PROGRAM``."""
    if CoordinatorMembership.objects.filter(user=user).exists():
        return True
    return coordinates_every_program(user=user)
