"""Signing in by link: the invitation link of one survey (DESIGN §7)."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from assessments.models import Response
from assessments.tokens import TokenRefused, token_check, token_use
from relationships.languages import program_offer

from . import scope
from .accounts import PER_CLIENT
from .link_language import link_page_language


@ratelimit(key="ip", rate=PER_CLIENT, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def magic_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button and changes nothing (mail scanners); POST signs the person in.

    The sign-in opens that person's own survey of that wave only (``scope``); the link
    keeps working until the wave is submitted or closes. The page offers the languages
    of the invitation's program (``link_language``).
    """
    try:
        invitation = token_use(token) if request.method == "POST" else token_check(token)
    except TokenRefused as refused:
        return render(
            request,
            "assessments/link_refused.html",
            {"reason": refused.reason},
            status=refused.status,
        )
    submitted = Response.objects.submitted().filter(
        wave=invitation.wave, dyad=invitation.dyad, respondent=invitation.participant
    )
    if request.method == "GET":
        program = invitation.dyad.cohort.program
        context = {
            "invitation": invitation,
            "submitted": submitted.exists(),
            **link_page_language(request, program_offer(program), invitation.participant.language),
        }
        return render(request, "assessments/magic_link.html", context)
    user = invitation.participant.user
    if request.user != user or scope.of(request) is not None:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        scope.limit(request, invitation)
    code, number = invitation.dyad.research_code, invitation.wave.number
    page = "assessments:results" if submitted.exists() else "assessments:survey"
    return redirect(reverse(page, args=[code, number]))
