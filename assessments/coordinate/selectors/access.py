"""What a coordinator may see (DESIGN §7): their programs, cohorts and dyads.

Staff see every program. Each read is one query; ``None`` means "not found for this
user", which the views turn into 404 (or 403 for someone who coordinates nothing).
"""

from __future__ import annotations

from django.db.models import Count, QuerySet

from relationships.models import Cohort, CoordinatorMembership, Dyad, Program, User


def programs_for(*, user: User) -> QuerySet[Program]:
    """The programs a user coordinates (every program for staff), with cohort counts."""
    return Program.objects.for_coordinator(user).annotate(cohort_count=Count("cohorts"))


def program_for(*, user: User, program: str) -> Program | None:
    """The program with slug ``program`` when ``user`` may coordinate it, else None."""
    return Program.objects.for_coordinator(user).filter(slug=program).first()


def cohort_for(*, user: User, program: str, cohort: str) -> Cohort | None:
    """The cohort ``program/cohort`` when ``user`` may coordinate it, else None."""
    allowed = Program.objects.for_coordinator(user)
    found = Cohort.objects.select_related("program").filter(program__in=allowed)
    return found.filter(program__slug=program, slug=cohort).first()


def dyad_for(*, cohort: Cohort, code: str) -> Dyad | None:
    """The cohort's dyad with research code ``code`` and its partners' users, else None."""
    dyads = Dyad.objects.select_related("mentor__user", "protege__user")
    return dyads.filter(cohort=cohort, research_code=code).first()


def coordinates_any(*, user: User) -> bool:
    """Whether ``user`` is staff or coordinates at least one program."""
    if user.is_staff or user.is_superuser:
        return True
    return CoordinatorMembership.objects.filter(user=user).exists()
