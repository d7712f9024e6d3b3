"""A participant's own data: what is held, a copy (JSON or CSV), and asking for deletion."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from assessments import privacy as services
from audit.models import AuditEvent
from audit.services import audit_record
from relationships.models import Participant


def _participant(request: HttpRequest) -> Participant:
    """The signed-in person's participant record; staff without one get a 404."""
    participant = getattr(request.user, "participant", None)
    if participant is None:
        raise Http404
    return participant


# never_cache: personal data must not stay in a shared browser's or a proxy's cache.
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    participant = _participant(request)
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the box to confirm that you want your data deleted."))
        elif services.deletion_request(participant=participant, request=request):
            messages.success(
                request,
                _("Your request is recorded and the administrators have been told. "
                  "You will be signed out for good once your data is erased."),
            )  # fmt: skip
        else:
            messages.info(request, _("You have already asked; the administrators know."))
        return redirect("assessments:my_data")
    data = services.participant_data(participant=participant)
    context = {
        "participant": participant,
        "answer_count": len(data["answers"]),
        "score_count": len(data["scores"]),
    }
    return render(request, "assessments/my_data.html", context)


@never_cache
@login_required
@require_GET
def my_data_download(request: HttpRequest, format: str) -> HttpResponse:
    participant = _participant(request)
    data = services.participant_data(participant=participant)
    audit_record(
        action=AuditEvent.Action.DATA_DOWNLOAD,
        actor=request.user,
        target=participant.research_code,
        detail={"format": format},
        request=request,
    )
    if format == "json":
        body, kind = json.dumps(data, ensure_ascii=False, indent=2), "application/json"
    else:
        body, kind = services.participant_csv(data), "text/csv"
    response = HttpResponse(body, content_type=f"{kind}; charset=utf-8")
    name = f"continuum-{participant.research_code}.{format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
