"""Access checks of the coordinator views (DESIGN §7): each returns the object asked for
or raises.

Dashboards answer 404 to anyone who does not coordinate the program. Management pages
and every write answer 403 to a signed-in user who coordinates no program at all (a
participant, say) and 404 to a coordinator of another program, so that nobody learns
which programs exist. Holders of ``access.EVERY_PROGRAM`` coordinate every program.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from assessments.models import Wave
from relationships.models import Cohort, Dyad, Program

from .selectors import access


def program_or_404(request: HttpRequest, slug: str) -> Program:
    found = access.program_for(user=request.user, program=slug)
    if found is None:
        raise Http404(_("No such program among the programs you coordinate."))
    return found


def cohort_or_404(request: HttpRequest, program: str, cohort: str) -> Cohort:
    found = access.cohort_for(user=request.user, program=program, cohort=cohort)
    if found is None:
        raise Http404(_("No such cohort among the programs you coordinate."))
    return found


def managed_program(request: HttpRequest, slug: str) -> Program:
    """``program_or_404`` for management: 403 for someone who coordinates nothing."""
    try:
        return program_or_404(request, slug)
    except Http404:
        _refuse_non_coordinators(request)
        raise


def managed_cohort(request: HttpRequest, program: str, cohort: str) -> Cohort:
    """``cohort_or_404`` for management: 403 for someone who coordinates nothing."""
    try:
        return cohort_or_404(request, program, cohort)
    except Http404:
        _refuse_non_coordinators(request)
        raise


def _refuse_non_coordinators(request: HttpRequest) -> None:
    # Asked only once the lookup failed, so a coordinator's pages cost no extra query.
    if not access.coordinates_any(user=request.user):
        raise PermissionDenied(_("Only a program's coordinators manage it."))


def dyad_or_404(cohort: Cohort, code: str) -> Dyad:
    found = access.dyad_for(cohort=cohort, code=code)
    if found is None:
        raise Http404(_("No such dyad in this cohort."))
    return found


def wave_or_404(cohort: Cohort, number: int) -> Wave:
    return get_object_or_404(
        Wave.objects.select_related("cohort__program"), cohort=cohort, number=number
    )
