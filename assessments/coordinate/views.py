"""Coordinator dashboards (DESIGN §1, §5, §7): programs, cohort, alerts, dyad, psychometrics.

Each view checks access, makes one call and returns. Anonymous users go to the login
page; anyone who does not coordinate the program (participants included) gets 404;
holders of the "coordinate every program" permission see every program. The writes and
management pages are in ``manage_views``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .forms import AlertFilterForm, DyadEndForm, DyadFilterForm
from .guards import cohort_or_404, dyad_or_404, program_or_404
from .selectors import access
from .selectors.alerts import cohort_alerts
from .selectors.cohort import cohort_dashboard
from .selectors.dyad import dyad_detail
from .selectors.program import program_overview
from .selectors.psychometrics import cohort_psychometrics
from .selectors.waves import cohort_waves


def _number(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


@login_required
@require_GET
def programs(request: HttpRequest) -> HttpResponse:
    found = list(access.programs_for(user=request.user))
    if not found and not access.coordinates_every_program(user=request.user):
        raise Http404(_("You do not coordinate a program."))
    return render(request, "coordinate/programs.html", {"programs": found})


@login_required
@require_GET
def program(request: HttpRequest, program: str) -> HttpResponse:
    found = program_or_404(request, program)
    overview = program_overview(program=found)
    context = {"program": found, "cohorts": overview.cohorts, "history": overview.history}
    context["charts"] = [overview.chart] if overview.chart else []
    return render(request, "coordinate/program.html", context)


@login_required
@require_GET
def cohort(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    found = cohort_or_404(request, program, cohort)
    waves = cohort_waves(cohorts=[found])
    form = DyadFilterForm(request.GET, waves=waves)
    filters = form.filters()
    dashboard = cohort_dashboard(
        cohort=found, waves=waves, filters=filters, page=request.GET.get("page")
    )
    context = {"cohort": found, "form": form, "filters": filters, "dashboard": dashboard}
    return render(request, "coordinate/cohort.html", {**context, "charts": dashboard.charts})


@login_required
@require_GET
def alerts(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    found = cohort_or_404(request, program, cohort)
    waves = cohort_waves(cohorts=[found])
    form = AlertFilterForm(request.GET, waves=waves)
    filters = form.filters()
    listed = cohort_alerts(
        cohort=found,
        waves=waves,
        followed=filters["show"] == "followed",
        wave_number=filters["wave"],
        reason=filters["reason"] or "",
        page=request.GET.get("page"),
    )
    context = {"cohort": found, "form": form, "alerts": listed, "page": listed.page}
    return render(request, "coordinate/alerts.html", {**context, "filters": filters})


@login_required
@require_GET
def dyad(request: HttpRequest, program: str, cohort: str, code: str) -> HttpResponse:
    found = cohort_or_404(request, program, cohort)
    shown = dyad_or_404(found, code)
    detail = dyad_detail(dyad=shown, cohort=found, profile_wave=_number(request, "profile_wave"))
    context = {
        "cohort": found,
        "dyad": shown,
        "detail": detail,
        "charts": [detail.trajectory, detail.profile],
        "end_form": DyadEndForm(initial={"ended_on": timezone.localdate()}),
    }
    return render(request, "coordinate/dyad.html", context)


@login_required
@require_GET
def psychometrics(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    found = cohort_or_404(request, program, cohort)
    stats = cohort_psychometrics(cohort=found, wave_number=_number(request, "wave"))
    return render(request, "coordinate/psychometrics.html", {"cohort": found, "stats": stats})
