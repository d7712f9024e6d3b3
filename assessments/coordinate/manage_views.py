"""Coordinator writes and management pages (DESIGN §1, §7): alert follow-ups, reminders,
a wave's confirmed send, ending a dyad, and managing cohorts, waves and dyads (one by
one or from CSV). The email pages are in ``delivery_views``.

Each view checks access, makes one call and returns. Anonymous users go to the login
page; a signed-in user who coordinates no program gets 403; a coordinator of another
program gets 404; staff manage every program.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delivery.models import Audience
from relationships import services as relationship_services
from relationships.models import Cohort

from . import delivery_services, services
from .forms import (
    AlertFollowUpForm,
    CohortForm,
    DyadEndForm,
    DyadForm,
    DyadImportConfirmForm,
    DyadImportForm,
    RemindForm,
    WaveForm,
)
from .guards import dyad_or_404, managed_cohort, managed_program, wave_or_404
from .selectors.waves import waves_overview
from .tasks import import_start

GET_POST = require_http_methods(["GET", "POST"])


def _cohort_url(cohort: Cohort, name: str = "cohort", *more: str | int) -> str:
    return reverse(f"coordinate:{name}", args=[cohort.program.slug, cohort.slug, *more])


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- actions -------------------------------------------------------------------------------


@login_required
@require_POST
def alert_follow_up(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    found = managed_cohort(request, program, cohort)
    form = AlertFollowUpForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = _cohort_url(found, "alerts")
    if not form.is_valid():
        messages.error(request, _("Write a short note of what was done to follow the alert up."))
        return redirect(back)
    data = form.cleaned_data
    try:
        services.alert_follow_up(
            dyad=dyad_or_404(found, data["dyad"]),
            wave=wave_or_404(found, data["wave"]),
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
    found = managed_cohort(request, program, cohort)
    dyad = dyad_or_404(found, code)
    form = RemindForm(request.POST)
    if form.is_valid():
        wave = wave_or_404(found, form.cleaned_data["wave"])
        try:
            services.dyad_remind(
                dyad=dyad, wave=wave, role=form.cleaned_data["role"], actor=request.user
            )
            messages.success(request, _("Reminder sent."))
        except ValidationError as error:
            _errors(request, error)
    return redirect(_cohort_url(found, "dyad", dyad.research_code))


@login_required
@require_POST
def dyad_end(request: HttpRequest, program: str, cohort: str, code: str) -> HttpResponse:
    found = managed_cohort(request, program, cohort)
    dyad = dyad_or_404(found, code)
    form = DyadEndForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Give the date the dyad ended."))
        services.dyad_end(dyad=dyad, ended_on=form.cleaned_data["ended_on"], actor=request.user)
        messages.success(request, _("The dyad has ended; its history stays."))
    except ValidationError as error:
        _errors(request, error)
    return redirect(_cohort_url(found, "dyad", dyad.research_code))


@login_required
@require_POST
def wave_send(
    request: HttpRequest, program: str, cohort: str, number: int, what: str
) -> HttpResponse:
    """The confirmed send of ``coordinate/delivery/send_confirm.html``: stores the
    request and answers at once with the send's progress page; the worker sends."""
    found = managed_cohort(request, program, cohort)
    wave = wave_or_404(found, number)
    audience = Audience.NOT_INVITED if what == "invitations" else Audience.NOT_SUBMITTED
    try:
        batch = delivery_services.wave_send(wave=wave, audience=audience, actor=request.user)
    except ValidationError as error:
        _errors(request, error)
        return redirect(_cohort_url(found, "wave_send_confirm", number))
    return redirect(_cohort_url(found, "send_progress", batch.pk))


# --- management pages ----------------------------------------------------------------------


@login_required
@require_GET
def manage(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    found = managed_cohort(request, program, cohort)
    waves = waves_overview(cohort=found)
    return render(request, "coordinate/manage.html", {"cohort": found, "waves": waves})


@login_required
@GET_POST
def cohort_create(request: HttpRequest, program: str) -> HttpResponse:
    found = managed_program(request, program)
    form = CohortForm(request.POST or None, initial={"started_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.cohort_create(program=found, actor=request.user, **form.cleaned_data)
            messages.success(request, _("Cohort %s created.") % created.name)
            return redirect(_cohort_url(created, "manage"))
        except ValidationError as error:
            form.add_error(None, error)
    context = {"program": found, "form": form, "title": _("New cohort")}
    return render(request, "coordinate/form.html", context)


@login_required
@GET_POST
def wave_create(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    found = managed_cohort(request, program, cohort)
    form = WaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            wave = services.wave_schedule(cohort=found, actor=request.user, **form.cleaned_data)
            messages.success(request, _("%s scheduled.") % wave)
            return redirect(_cohort_url(found, "manage"))
        except ValidationError as error:
            form.add_error(None, error)
    context = {"cohort": found, "form": form, "title": _("Schedule a wave")}
    return render(request, "coordinate/form.html", context)


@login_required
@GET_POST
def wave_edit(request: HttpRequest, program: str, cohort: str, number: int) -> HttpResponse:
    found = managed_cohort(request, program, cohort)
    wave = wave_or_404(found, number)
    form = WaveForm(request.POST or None, initial=WaveForm.initial_of(wave))
    if request.method == "POST" and form.is_valid():
        try:
            services.wave_reschedule(wave=wave, actor=request.user, **form.cleaned_data)
            messages.success(request, _("%s updated.") % wave)
            return redirect(_cohort_url(found, "manage"))
        except ValidationError as error:
            form.add_error(None, error)
    context = {"cohort": found, "form": form, "title": _("Change %s") % wave}
    return render(request, "coordinate/form.html", context)


@login_required
@GET_POST
def dyad_create(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    found = managed_cohort(request, program, cohort)
    form = DyadForm(request.POST or None, initial={"started_on": found.started_on})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.dyad_create(cohort=found, row=form.row(), actor=request.user)
            messages.success(request, _("Dyad %s added.") % created.research_code)
            return redirect(_cohort_url(found, "dyad", created.research_code))
        except relationship_services.DyadImportError as error:
            for problem in error.problems:
                form.add_error(None, problem.message)
    context = {"cohort": found, "form": form, "title": _("Add a dyad")}
    return render(request, "coordinate/form.html", context)


@login_required
@GET_POST
def dyad_import(request: HttpRequest, program: str, cohort: str) -> HttpResponse:
    found = managed_cohort(request, program, cohort)
    if "csv_text" in request.POST:
        return _import_confirm(request, found)
    form = DyadImportForm(request.POST or None, request.FILES or None)
    plan = confirm = None
    if request.method == "POST" and form.is_valid():
        plan = relationship_services.dyads_preview(cohort=found, text=form.cleaned_data["file"])
        confirm = DyadImportConfirmForm(initial={"csv_text": form.cleaned_data["file"]})
    context = {"cohort": found, "form": form, "plan": plan, "confirm": confirm}
    return render(request, "coordinate/import.html", context)


def _import_confirm(request: HttpRequest, cohort: Cohort) -> HttpResponse:
    """The previewed file, checked again here (so its problems show on this page) and
    then imported on the worker, which checks it once more as it writes; the person
    follows the import on the job's page."""
    form = DyadImportConfirmForm(request.POST)
    if form.is_valid():
        text = form.cleaned_data["csv_text"]
        problems = relationship_services.dyads_preview(cohort=cohort, text=text).problems
    else:
        problems = [relationship_services.Problem(1, form.problem())]
    if problems:
        context = {"cohort": cohort, "form": DyadImportForm(), "problems": problems}
        return render(request, "coordinate/import.html", context, status=400)
    return redirect("jobs:job", import_start(cohort=cohort, text=text, owner=request.user).pk)
