"""Coordinator pages of email delivery (docs/delivery.md): confirming a wave's send and
following its progress, failed messages and their retry, the program's wording of its
invitation and reminder, its schedule, and each coordinator's alert emails.

Guards as in ``manage_views`` (DESIGN §7): anonymous visitors go to sign-in, someone
who coordinates no program gets 403, a coordinator of another program 404. Every write
is a POST with its CSRF token and is recorded in the audit trail.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delivery import selectors as delivery_selectors
from delivery.models import DeliveryBatch, MessageTemplate
from delivery.wording import PLACEHOLDERS
from relationships.models import Cohort, Program

from . import delivery_services
from .delivery_forms import MessageTemplateForm, NotificationForm, ScheduleForm
from .guards import managed_cohort, managed_program, wave_or_404
from .selectors import delivery as pages

GET_POST = require_http_methods(["GET", "POST"])


def _batch_or_404(cohort: Cohort, batch: int) -> DeliveryBatch:
    found = delivery_selectors.program_batch(cohort=cohort, batch_id=batch)
    if found is None:
        raise Http404(_("No such send in this cohort."))
    return found


def _kind_or_404(kind: str) -> str:
    if kind not in MessageTemplate.Purpose.values:
        raise Http404(_("No such message."))
    return kind


def _program_url(program: Program, name: str, *more: str | int) -> str:
    return reverse(f"coordinate:{name}", args=[program.slug, *more])


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- a wave's send -------------------------------------------------------------------------


@login_required
@require_GET
def wave_send_confirm(request: HttpRequest, program: str, cohort: str, number: int) -> HttpResponse:
    found = managed_cohort(request, program, cohort)
    wave = wave_or_404(found, number)
    choices = pages.send_choices(wave=wave)
    context = {"cohort": found, "wave": wave, "choices": choices, "open": wave.is_open()}
    return render(request, "coordinate/delivery/send_confirm.html", context)


@login_required
@require_GET
def send_progress(request: HttpRequest, program: str, cohort: str, batch: int) -> HttpResponse:
    found = managed_cohort(request, program, cohort)
    sent = _batch_or_404(found, batch)
    progress = pages.progress_data(batch=sent)
    context = {"cohort": found, "batch": sent, "progress": progress}
    return render(request, "coordinate/delivery/send_progress.html", context)


@login_required
@require_GET
def send_progress_json(request: HttpRequest, program: str, cohort: str, batch: int) -> JsonResponse:
    found = managed_cohort(request, program, cohort)
    return JsonResponse(pages.progress_data(batch=_batch_or_404(found, batch)))


# --- failed messages -----------------------------------------------------------------------


@login_required
@require_GET
def failed_deliveries(request: HttpRequest, program: str) -> HttpResponse:
    found = managed_program(request, program)
    cohorts = list(Cohort.objects.filter(program=found).order_by("name"))
    chosen = next((c for c in cohorts if c.slug == request.GET.get("cohort")), None)
    rows = pages.failed_page(program=found, cohort=chosen, page=request.GET.get("page"))
    context = {"program": found, "cohorts": cohorts, "chosen": chosen, "page": rows}
    return render(request, "coordinate/delivery/failed.html", context)


@login_required
@require_POST
def delivery_retry(request: HttpRequest, program: str, delivery: int) -> HttpResponse:
    found = managed_program(request, program)
    row = delivery_selectors.program_delivery(program=found, delivery_id=delivery)
    if row is None:
        raise Http404(_("No such message in this program."))
    try:
        delivery_services.delivery_retry(delivery=row, program=found, actor=request.user)
        messages.success(request, _("The message is queued again, with the same link."))
    except ValidationError as error:
        _errors(request, error)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = _program_url(found, "failed_deliveries")
    return redirect(back)


# --- wording -------------------------------------------------------------------------------


@login_required
@require_GET
def message_templates(request: HttpRequest, program: str) -> HttpResponse:
    found = managed_program(request, program)
    context = {"program": found, "messages_list": pages.wording_overview(program=found)}
    return render(request, "coordinate/delivery/templates.html", context)


@login_required
@GET_POST
def message_template(request: HttpRequest, program: str, kind: str) -> HttpResponse:
    found = managed_program(request, program)
    kind = _kind_or_404(kind)
    saved, own = pages.saved_wording(program=found, kind=kind)
    form = MessageTemplateForm(request.POST or None, initial=vars(saved))
    action = request.POST.get("action", "preview")
    if request.method == "POST" and action == "reset":
        delivery_services.message_template_reset(program=found, kind=kind, actor=request.user)
        messages.success(request, _("The default wording is back."))
        return redirect(_program_url(found, "message_template", kind))
    if request.method == "POST" and form.is_valid() and action == "save":
        delivery_services.message_template_save(program=found, kind=kind, actor=request.user,
                                                 **form.cleaned_data)  # fmt: skip
        messages.success(request, _("Saved: the next messages use this wording."))
        return redirect(_program_url(found, "message_template", kind))
    invalid = form.is_bound and not form.is_valid()
    shown = form.cleaned_data if form.is_bound and not invalid else vars(saved)
    context = {
        "program": found,
        "kind": kind,
        "kind_label": MessageTemplate.Purpose(kind).label,
        "form": form,
        "own": own,
        "preview": None if invalid else pages.wording_preview(program=found, **shown),
        "unsaved": form.is_bound,
        "placeholders": [(f"{{{name}}}", text) for name, text in PLACEHOLDERS.items()],
    }
    return render(request, "coordinate/delivery/template_edit.html", context)


@login_required
@require_POST
def message_template_test(request: HttpRequest, program: str, kind: str) -> HttpResponse:
    found = managed_program(request, program)
    kind = _kind_or_404(kind)
    if delivery_services.test_message_send(program=found, kind=kind, actor=request.user):
        messages.success(request, _("A test message is on its way to %s.") % request.user.email)
    else:
        messages.info(request, _("A test message went out a moment ago; try again in a minute."))
    return redirect(_program_url(found, "message_template", kind))


# --- schedule and notices ------------------------------------------------------------------


@login_required
@GET_POST
def delivery_schedule(request: HttpRequest, program: str) -> HttpResponse:
    found = managed_program(request, program)
    initial = ScheduleForm.initial_of(pages.program_schedule(program=found))
    form = ScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            delivery_services.program_schedule_save(program=found, actor=request.user,
                                                    **form.cleaned_data)  # fmt: skip
            messages.success(request, _("The schedule is saved."))
            return redirect(_program_url(found, "delivery_schedule"))
        except ValidationError as error:
            form.add_error(None, error)
    return render(request, "coordinate/delivery/schedule.html", {"program": found, "form": form})


@login_required
@GET_POST
def notification_preference(request: HttpRequest, program: str) -> HttpResponse:
    found = managed_program(request, program)
    notices = pages.coordinator_notices(program=found, user=request.user)
    form = NotificationForm(request.POST or None, initial={"alerts": notices["mine"]})
    if request.method == "POST" and form.is_valid():
        delivery_services.notification_preference_save(
            program=found, alerts=form.cleaned_data["alerts"], actor=request.user
        )
        messages.success(request, _("Your choice is saved."))
        return redirect(_program_url(found, "notification_preference"))
    context = {"program": found, "form": form, "notices": notices}
    return render(request, "coordinate/delivery/notifications.html", context)
