"""Writing the audit trail. Every sensitive service calls ``audit_record`` itself, so bulk
writes and ``QuerySet.update()`` calls that no signal sees are recorded too."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .models import AuditEvent


def audit_record(
    *,
    action: str,
    actor=None,
    target: Any = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    program: str = "",
    incomplete: bool = False,
) -> AuditEvent:
    """Add one event. ``actor`` is a user (or None for the system, the command line and
    anonymous visitors); ``program`` the slug of the program acted in; ``incomplete``
    marks an export cut off before its end. ``detail`` must be JSON data."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=actor.get_username() if actor is not None else "",
        target=str(target)[:300],
        program=program,
        incomplete=incomplete,
        detail=detail or {},
        ip_address=_ip(request),
    )


def _ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None
