"""Sign-in rate limiting with django-axes: whose attempts count, and the lockout page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def attempted_email(request: HttpRequest, credentials: dict | None = None) -> str:
    """The account an attempt was for, as the login form's ``username`` field gives it.

    Lower-cased like stored emails, so ``Mentor@x.org`` and ``mentor@x.org`` share one
    count; otherwise changing the case of a letter would buy five more guesses.
    """
    source = credentials if credentials else getattr(request, "POST", {})
    return str(source.get("username") or source.get("email") or "").strip().lower()


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out visitor sees: what happened and when to try again (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)


def forwarded_client(request: HttpRequest) -> str:
    """The client address a trusted proxy saw: the last ``X-Forwarded-For`` entry."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    last = forwarded.rsplit(",", 1)[-1].strip()
    return last or request.META.get("REMOTE_ADDR", "")
