"""Coordinator pages (DESIGN §1, §5, §7): dashboards, alerts, dyads, psychometrics, management.

Each view checks access, makes one call and returns. Access: anonymous users go to
the login page; anyone who does not coordinate the program (participants included)
gets 404; staff see every program.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relationships import services as relationship_services
from relationships.models import Cohort, Dyad, Program

from . import dashboard_selectors as selectors
from . import dashboard_services as services
from .dashboard_forms import (
    AlertFilterForm,
    AlertFollowUpForm,
    CohortForm,
    DyadEndForm,
    DyadFilterForm,
    DyadForm,
    DyadImportConfirmForm,
    DyadImportForm,
    RemindForm,
    WaveForm,
)
from .models import Wave

GET_POST = require_http_methods(["GET", "POST"])


def _program(request: HttpRequest, slug: str) -> Program:
    return get_object_or_404(Program.objects.for_coordinator(request.user), slug=slug)


def _cohort(request: HttpRequest, program: str, cohort: str) -> Cohort:
    found = selectors.cohort_for(user=request.user, program=program, cohort=cohort)
    if found is None:
        raise Http404(_("No such cohort among the programs you coordinate."))
    return found


def _dyad(cohort: Cohort, code: str) -> Dyad:
    found = selectors.dyad_for(cohort=cohort, code=code)
    if found is None:
        raise Http404(_("No such dyad in this cohort."))
    return found


def _wave(cohort: Cohort, number: int) -> Wave:
    return get_object_or_404(
        Wave.objects.select_related("cohort__program"), cohort=cohort, number=number
    )


def _cohort_url(cohort: Cohort, name: str = "cohort", *more: str | int) -> str:
    return reverse(f"coordinate:{name}", args=[cohort.program.slug, cohort.slug, *more])


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- dashboards ---------------------------------------------------------------------------


@login_required
@require_GET
def programs(request: HttpRequest) -> HttpResponse:
    found = list(selectors.programs_for(user=request.user))
    if not found and not request.user.is_staff:
        raise Http404(_("You do not coordinate a program."))
    return render(request, "coordinate/programs.html", {"programs": found})


@login_required
@require_GET
def program(request: HttpRequest, program: str) -> HttpResponse:
    program = _program(request, program)
    cohorts = selectors.program_overview(program=program)
    return render(request, "coordinate/program.html", {"program": program, "cohorts": cohorts})


@login_required
@require_GET
def cohort(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    waves = selectors.cohort_waves(cohorts=[cohort])
    form = DyadFilterForm(request.GET, waves=waves)
    filters = form.filters()
    dashboard = selectors.cohort_dashboard(
        cohort=cohort, waves=waves, filters=filters, page=request.GET.get("page")
    )
    context = {"cohort": cohort, "form": form, "filters": filters, "dashboard": dashboard}
    context["charts"] = dashboard.charts
    return render(request, "coordinate/cohort.html", context)


@login_required
@require_GET
def alerts(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    form = AlertFilterForm(request.GET, waves=selectors.cohort_waves(cohorts=[cohort]))
    filters = form.filters()
    found = selectors.cohort_alerts(
        cohort=cohort,
        followed=filters["show"] == "followed",
        wave_number=filters["wave"],
        reason=filters["reason"] or "",
        page=request.GET.get("page"),
    )
    context = {"cohort": cohort, "form": form, "alerts": found, "page": found.page}
    context["filters"] = filters
    return render(request, "coordinate/alerts.html", context)


@login_required
@require_GET
def dyad(request: HttpRequest, program: str, cohort: str, code: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    dyad = _dyad(cohort, code)
    wave = request.GET.get("profile_wave", "")
    detail = selectors.dyad_detail(
        dyad=dyad, cohort=cohort, profile_wave=int(wave) if wave.isdigit() else None
    )
    context = {
        "cohort": cohort,
        "dyad": dyad,
        "detail": detail,
        "charts": [detail.trajectory, detail.profile],
        "end_form": DyadEndForm(initial={"ended_on": timezone.localdate()}),
    }
    return render(request, "coordinate/dyad.html", context)


@login_required
@require_GET
def psychometrics(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    wave = request.GET.get("wave", "")
    stats = selectors.cohort_psychometrics(
        cohort=cohort, wave_number=int(wave) if wave.isdigit() else None
    )
    return render(request, "coordinate/psychometrics.html", {"cohort": cohort, "stats": stats})


# --- actions ------------------------------------------------------------------------------


@login_required
@require_POST
def alert_follow_up(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    form = AlertFollowUpForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = _cohort_url(cohort, "alerts")
    if not form.is_valid():
        messages.error(request, _("Write a short note of what was done to follow the alert up."))
        return redirect(back)
    data = form.cleaned_data
    try:
        services.alert_follow_up(
            dyad=_dyad(cohort, data["dyad"]),
            wave=_wave(cohort, data["wave"]),
            reason=data["reason"],
            note=data["note"],
            user=request.user,
        )
        messages.success(request, _("Marked as followed up."))
    except ValidationError as error:
        _errors(request, error)
    return redirect(back)


@login_required
@require_POST
def dyad_remind(request: HttpRequest, program: str, cohort: str, code: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    dyad = _dyad(cohort, code)
    form = RemindForm(request.POST)
    if form.is_valid():
        wave = _wave(cohort, form.cleaned_data["wave"])
        try:
            services.dyad_remind(dyad=dyad, wave=wave, role=form.cleaned_data["role"])
            messages.success(request, _("Reminder sent."))
        except ValidationError as error:
            _errors(request, error)
    return redirect(_cohort_url(cohort, "dyad", dyad.research_code))


@login_required
@require_POST
def dyad_end(request: HttpRequest, program: str, cohort: str, code: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    dyad = _dyad(cohort, code)
    form = DyadEndForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Give the date the dyad ended."))
        relationship_services.dyad_end(dyad=dyad, ended_on=form.cleaned_data["ended_on"])
        messages.success(request, _("The dyad has ended; its history stays."))
    except ValidationError as error:
        _errors(request, error)
    return redirect(_cohort_url(cohort, "dyad", dyad.research_code))


@login_required
@require_POST
def wave_send(
    request: HttpRequest, program: str, cohort: str, number: int, what: str
) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    wave = _wave(cohort, number)
    try:
        if what == "invitations":
            services.wave_invite(wave=wave)
            messages.success(request, _("Invitations to %s are on their way.") % wave)
        else:
            services.wave_remind(wave=wave)
            messages.success(request, _("Reminders for %s are on their way.") % wave)
    except ValidationError as error:
        _errors(request, error)
    return redirect(_cohort_url(cohort, "manage"))


# --- management ---------------------------------------------------------------------------


@login_required
@require_GET
def manage(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    waves = selectors.waves_overview(cohort=cohort)
    return render(request, "coordinate/manage.html", {"cohort": cohort, "waves": waves})


@login_required
@GET_POST
def cohort_create(request: HttpRequest, program: str) -> HttpResponse:
    program = _program(request, program)
    form = CohortForm(request.POST or None, initial={"started_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            created = relationship_services.cohort_create(program=program, **form.cleaned_data)
            messages.success(request, _("Cohort %s created.") % created.name)
            return redirect(_cohort_url(created, "manage"))
        except ValidationError as error:
            form.add_error(None, error)
    return render(
        request,
        "coordinate/form.html",
        {"program": program, "form": form, "title": _("New cohort")},
    )


@login_required
@GET_POST
def wave_create(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    form = WaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            wave = services.wave_schedule(cohort=cohort, **form.cleaned_data)
            messages.success(request, _("%s scheduled.") % wave)
            return redirect(_cohort_url(cohort, "manage"))
        except ValidationError as error:
            form.add_error(None, error)
    context = {"cohort": cohort, "form": form, "title": _("Schedule a wave")}
    return render(request, "coordinate/form.html", context)


@login_required
@GET_POST
def wave_edit(request: HttpRequest, program: str, cohort: str, number: int) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    wave = _wave(cohort, number)
    initial = {
        "label": wave.label,
        "opens_at": wave.opens_at,
        "closes_at": wave.closes_at,
        "instrument": wave.instrument,
    }
    form = WaveForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.wave_reschedule(wave=wave, **form.cleaned_data)
            messages.success(request, _("%s updated.") % wave)
            return redirect(_cohort_url(cohort, "manage"))
        except ValidationError as error:
            form.add_error(None, error)
    context = {"cohort": cohort, "form": form, "title": _("Change %s") % wave}
    return render(request, "coordinate/form.html", context)


@login_required
@GET_POST
def dyad_create(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    form = DyadForm(request.POST or None, initial={"started_on": cohort.started_on})
    if request.method == "POST" and form.is_valid():
        try:
            created = relationship_services.dyad_create(cohort=cohort, row=form.row())
            messages.success(request, _("Dyad %s added.") % created.research_code)
            return redirect(_cohort_url(cohort, "dyad", created.research_code))
        except relationship_services.DyadImportError as error:
            for problem in error.problems:
                form.add_error(None, problem.message)
    context = {"cohort": cohort, "form": form, "title": _("Add a dyad")}
    return render(request, "coordinate/form.html", context)


@login_required
@GET_POST
def dyad_import(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    cohort = _cohort(request, program, cohort)
    if "csv_text" in request.POST:
        return _import_confirm(request, cohort)
    form = DyadImportForm(request.POST or None, request.FILES or None)
    plan = confirm = None
    if request.method == "POST" and form.is_valid():
        plan = relationship_services.dyads_preview(cohort=cohort, text=form.cleaned_data["file"])
        confirm = DyadImportConfirmForm(initial={"csv_text": form.cleaned_data["file"]})
    context = {"cohort": cohort, "form": form, "plan": plan, "confirm": confirm}
    return render(request, "coordinate/import.html", context)


def _import_confirm(request: HttpRequest, cohort: Cohort) -> HttpResponse:
    form = DyadImportConfirmForm(request.POST)
    text = form.cleaned_data["csv_text"] if form.is_valid() else ""
    try:
        plan = relationship_services.dyads_import(cohort=cohort, text=text)
    except relationship_services.DyadImportError as error:
        context = {"cohort": cohort, "form": DyadImportForm(), "problems": error.problems}
        return render(request, "coordinate/import.html", context, status=400)
    messages.success(
        request,
        _("Imported %(n)d dyads (%(people)d new participants).")
        % {"n": len(plan.dyads), "people": len(plan.new_people)},
    )
    return redirect(_cohort_url(cohort))
