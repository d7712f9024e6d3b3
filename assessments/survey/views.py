"""Participant pages: home, the survey (with autosave), submission and results."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments.models import WaveClosed

from . import selectors, services
from .forms import BatteryForm

MAX_AUTOSAVE_FIELDS = 100


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    participant = getattr(request.user, "participant", None)
    cards = selectors.participant_home(participant=participant) if participant else []
    return render(request, "assessments/home.html", {"cards": cards})


def _survey(request: HttpRequest, code: str, number: int):
    dyad, participant = selectors.dyad_for_participant(user=request.user, code=code)
    wave = selectors.wave_of(dyad, number)
    language = selectors.survey_language(wave)
    response = services.response_open(
        dyad=dyad, wave=wave, participant=participant, language=language
    )
    return dyad, wave, response


def _closed(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return render(request, "assessments/closed.html", {"reason": error.messages[0]}, status=403)


@login_required
@require_GET
def survey_resume(request: HttpRequest, code: str, wave: int) -> HttpResponse:
    try:
        _dyad, wave_obj, response = _survey(request, code, wave)
    except WaveClosed as error:
        return _closed(request, error)
    page = selectors.first_unanswered_page(response, selectors.survey_pages(wave_obj))
    return redirect("assessments:survey_page", code=code, wave=wave, page=page)


@login_required
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, code: str, wave: int, page: int) -> HttpResponse:
    try:
        dyad, wave_obj, response = _survey(request, code, wave)
    except WaveClosed as error:
        return _closed(request, error)
    except Http404:
        if not selectors.reads_any_survey(user=request.user):
            raise
        return _survey_read_only(request, code, wave, page)
    pages = selectors.survey_pages(wave_obj)
    if not 1 <= page <= len(pages):
        return redirect("assessments:survey_page", code=code, wave=wave, page=1)
    battery, items = pages[page - 1], selectors.page_items(pages[page - 1])
    language = selectors.survey_language(wave_obj)
    form = BatteryForm(
        request.POST or None,
        battery=battery,
        items=items,
        role=response.role,
        language=language,
        initial=selectors.stored_answers(response),
    )
    if request.method == "POST":
        refused = _save_page(request, response, form, language)
        if refused is not None:
            return refused
        target = page + (1 if "next" in request.POST else -1 if "previous" in request.POST else 0)
        if "review" in request.POST or target > len(pages):
            return redirect("assessments:survey_review", code=code, wave=wave)
        return redirect("assessments:survey_page", code=code, wave=wave, page=max(target, 1))
    return _render_page(request, dyad, wave_obj, response, form, pages, page, response.role)


def _save_page(
    request: HttpRequest, response, form: BatteryForm, language: str
) -> HttpResponse | None:
    """Save the answers a page posted; ``None`` to go on, or the refusal to show.

    A page that posts no answer only turns the page. Answers posted to a submitted
    response (another tab may have submitted a moment ago) change nothing and come back
    to the same page with the reason.
    """
    if not form.is_valid() or not form.answered():
        return None
    try:
        services.answers_save(response=response, values=form.answered(), language=language)
    except services.ResponseSubmitted as error:
        messages.error(request, error.messages[0])
        return redirect(request.path)
    except ValidationError as error:
        return _closed(request, error)
    return None


def _survey_read_only(request: HttpRequest, code: str, wave: int, page: int) -> HttpResponse:
    """A holder of ``READ_ANY_SURVEY`` views a partner's page (``?role=``) as it stands,
    without changing anything."""
    if request.method != "GET":
        raise PermissionDenied
    dyad, role = selectors.dyad_for_results(
        user=request.user, code=code, role=request.GET.get("role")
    )
    wave_obj = selectors.wave_of(dyad, wave)
    pages = selectors.survey_pages(wave_obj)
    if not 1 <= page <= len(pages):
        raise Http404
    battery = pages[page - 1]
    response = selectors.response_of(dyad=dyad, wave=wave_obj, role=role)
    form = BatteryForm(
        battery=battery,
        items=selectors.page_items(battery),
        role=role,
        language=selectors.survey_language(wave_obj),
        initial=selectors.stored_answers(response) if response else {},
    )
    return _render_page(request, dyad, wave_obj, response, form, pages, page, role, True)


def _render_page(request, dyad, wave, response, form, pages, page, role, read_only=False):
    battery, language = pages[page - 1], selectors.survey_language(wave)
    context = {
        "dyad": dyad,
        "wave": wave,
        "response": response,
        "form": form,
        "battery": battery,
        "page": page,
        "pages": pages,
        "progress": _progress(response, wave) if response else 0,
        "battery_title": battery.title_in(language),
        "intro": battery.intro_in(role, language),
        "read_only": read_only,
        "role": role,
    }
    return render(request, "assessments/survey_page.html", context)


def _progress(response, wave) -> int:
    total = selectors.item_count(wave)
    return round(100 * response.answers.count() / total) if total else 0


@login_required
@require_POST
def survey_autosave(request: HttpRequest, code: str, wave: int) -> JsonResponse:
    try:
        _dyad, _wave, response = _survey(request, code, wave)
        values = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        if not values or len(values) > MAX_AUTOSAVE_FIELDS:
            raise ValidationError(
                _("Send between one and %(n)d answers.") % {"n": MAX_AUTOSAVE_FIELDS}
            )
        saved = services.answers_save(
            response=response, values=values, language=selectors.survey_language(_wave)
        )
    except ValidationError as error:
        # 409: the request was well formed but the response no longer takes answers.
        refused = isinstance(error, WaveClosed | services.ResponseSubmitted)
        return JsonResponse({"saved": 0, "errors": error.messages}, status=409 if refused else 400)
    return JsonResponse({"saved": saved})


@login_required
@require_http_methods(["GET", "POST"])
def survey_review(request: HttpRequest, code: str, wave: int) -> HttpResponse:
    try:
        dyad, wave_obj, response = _survey(request, code, wave)
    except WaveClosed as error:
        return _closed(request, error)
    if request.method == "POST":
        try:
            services.response_submit(response=response)
        except WaveClosed as error:
            return _closed(request, error)
        except ValidationError:
            messages.error(request, _("Some questions still need an answer."))
        else:
            messages.success(request, _("Thank you, your answers are submitted."))
            return redirect("assessments:results", code=code, wave=wave)
    pages = selectors.survey_pages(wave_obj)
    missing = services.missing_items(response=response)
    page_of = {battery.pk: number for number, battery in enumerate(pages, start=1)}
    language = selectors.survey_language(wave_obj)
    return render(
        request,
        "assessments/review.html",
        {
            "dyad": dyad,
            "wave": wave_obj,
            "response": response,
            "missing": [
                (
                    item,
                    page_of[item.subscale.battery_id],
                    item.subscale.battery.title_in(language),
                    item.text_for(response.role, language),
                )
                for item in missing
            ],
        },
    )


@login_required
@require_GET
def results(request: HttpRequest, code: str, wave: int) -> HttpResponse:
    dyad, role = selectors.dyad_for_results(
        user=request.user, code=code, role=request.GET.get("role")
    )
    context = selectors.results_page(dyad=dyad, wave=selectors.wave_of(dyad, wave), role=role)
    return render(request, "assessments/results.html", context)
