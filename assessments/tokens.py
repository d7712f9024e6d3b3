"""Magic-link tokens: random, one-time, stored only as a SHA-256 hash.

A token is scoped to one invitation (one participant, one dyad, one wave), expires
when the wave closes and can be revoked. Opening a link (GET) changes nothing, because
mail scanners open links before people do; the sign-in (POST) consumes it.
"""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from audit.services import audit_record

from .models import Invitation

TOKEN_BYTES = 32


class TokenRefused(Exception):
    """The link cannot be used; ``reason`` is a sentence for the person holding it."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_issue(*, invitation: Invitation) -> str:
    """A fresh token for the invitation; any earlier link of it stops working."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    invitation.token_hash = token_hash(raw)
    invitation.used_at = None
    invitation.save(update_fields=["token_hash", "used_at"])
    return raw


def token_check(raw: str) -> Invitation:
    """The invitation a token opens; raises ``TokenRefused`` with a clear reason."""
    if not raw or len(raw) > 100:
        raise TokenRefused(_("This sign-in link is not valid. Please check the address."))
    invitation = (
        Invitation.objects.select_related("wave", "dyad", "participant__user")
        .filter(token_hash=token_hash(raw))
        .first()
    )
    if invitation is None:
        raise TokenRefused(
            _("This sign-in link is not valid. It may have been replaced by a newer email.")
        )
    if invitation.revoked_at is not None:
        raise TokenRefused(_("This sign-in link has been withdrawn by your program."), 410)
    if invitation.used_at is not None:
        raise TokenRefused(
            _("This sign-in link has already been used. Please sign in with your password."), 410
        )
    if invitation.wave.closes_at <= timezone.now():
        raise TokenRefused(_("This survey has closed, so its sign-in link has expired."), 410)
    user = invitation.participant.user
    if user is None:
        raise TokenRefused(_("This sign-in link is not valid."))
    if user.is_staff or user.is_superuser:
        # A link is a password-less sign-in; privileged accounts use their password (and
        # its lockout) only, whatever a participant record says.
        raise TokenRefused(
            _("This account signs in with its password. Please use the sign-in page."), 403
        )
    return invitation


def token_consume(raw: str) -> Invitation:
    """Check and use up a token in one step; a second use is refused."""
    invitation = token_check(raw)
    used = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not used:
        raise TokenRefused(_("This sign-in link has already been used."), 410)
    return invitation


def token_revoke(*, invitation: Invitation, actor=None) -> None:
    """Make the invitation's link unusable from now on; recorded in the audit trail."""
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        action=AuditEvent.Action.TOKEN_REVOKED,
        actor=actor,
        target=f"invitation #{invitation.pk}",
        detail={"participant": invitation.participant.research_code, "wave": invitation.wave_id},
    )
