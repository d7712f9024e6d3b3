"""Invitation links: one link per invitation that works until the wave is submitted.

A link is ``/invite/<invitation id>-<signature>/`` where the signature is an HMAC
(``SECRET_KEY``) over the invitation's id and its nonce. Nothing secret is stored: the
database holds the nonce, which is useless without the key, so every reminder can carry
the same link and no send ever has to replace one. Revoking an invitation draws a new
nonce, which ends every link issued before (and sets ``revoked_at``).

A link opens one person's own survey of one wave, on any device, any number of times,
until that person submits the wave or the wave closes. Opening it (GET) changes
nothing, because mail scanners open links before people do; the button (POST) signs the
person in for that survey only (``assessments.survey.scope``). After submitting, the
link no longer edits anything: it leads to the submitted survey and its results.
A link never signs in a staff or superuser account. Links stay valid through a key
rotation while the old key is listed in ``SECRET_KEY_FALLBACKS``.
"""

from __future__ import annotations

import base64
import re

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from audit.services import audit_record

from .models import Invitation
from .models.survey import invitation_nonce

SALT = "continuum.invitation-link"
LINK = re.compile(r"(?P<pk>[0-9]{1,18})-(?P<signature>[A-Za-z0-9_-]{43})")


class TokenRefused(Exception):
    """The link cannot be used; ``reason`` is a sentence for the person holding it."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _signature(pk: int, nonce: str, secret: str | None = None) -> str:
    digest = salted_hmac(SALT, f"{pk}:{nonce}", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _signed(invitation: Invitation, signature: str) -> bool:
    """Whether ``signature`` is the invitation's, under the key or a rotated-out one."""
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return any(
        constant_time_compare(signature, _signature(invitation.pk, invitation.nonce, secret))
        for secret in secrets
    )


def invitation_token(invitation: Invitation) -> str:
    """The link's token; the same for every email of this invitation until a revoke."""
    return f"{invitation.pk}-{_signature(invitation.pk, invitation.nonce)}"


def invitation_url(invitation: Invitation) -> str:
    """The absolute link emailed for the invitation (``SITE_URL`` is where the app runs)."""
    path = reverse("assessments:magic_link", args=[invitation_token(invitation)])
    return settings.SITE_URL.rstrip("/") + path


def token_check(raw: str) -> Invitation:
    """The invitation a link opens; raises ``TokenRefused`` with a clear reason.

    A link of a submitted response still opens (it leads to the submitted survey and
    the results); the survey pages themselves refuse any change to it.
    """
    match = LINK.fullmatch(raw or "")
    if match is None:
        raise TokenRefused(_("This sign-in link is not valid. Please check the address."))
    invitation = (
        Invitation.objects.select_related("wave", "dyad__cohort__program", "participant__user")
        .filter(pk=int(match["pk"]))
        .first()
    )
    if invitation is None or not _signed(invitation, match["signature"]):
        if invitation is not None and invitation.revoked_at is not None:
            raise TokenRefused(_("This sign-in link has been withdrawn by your program."), 410)
        raise TokenRefused(_("This sign-in link is not valid. Please check the address."))
    if invitation.revoked_at is not None:
        raise TokenRefused(_("This sign-in link has been withdrawn by your program."), 410)
    if invitation.wave.closes_at <= timezone.now():
        raise TokenRefused(_("This survey has closed, so its sign-in link has expired."), 410)
    user = invitation.participant.user
    if user is None or not user.is_active:
        raise TokenRefused(_("This sign-in link is not valid."))
    if user.is_staff or user.is_superuser:
        # A link is a password-less sign-in; privileged accounts use their password (and
        # its lockout) only, whatever a participant record says.
        raise TokenRefused(
            _("This account signs in with its password. Please use the sign-in page."), 403
        )
    return invitation


def token_use(raw: str) -> Invitation:
    """Check a link for a sign-in and note when it was first and last used."""
    invitation = token_check(raw)
    now = timezone.now()
    Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(used_at=now)
    Invitation.objects.filter(pk=invitation.pk).update(last_used_at=now)
    return invitation


def token_revoke(*, invitation: Invitation, actor=None) -> None:
    """End every link of the invitation (a new nonce); recorded in the audit trail."""
    invitation.revoked_at = timezone.now()
    invitation.nonce = invitation_nonce()
    invitation.save(update_fields=["revoked_at", "nonce"])
    audit_record(
        action=AuditEvent.Action.TOKEN_REVOKED,
        actor=actor,
        target=f"invitation #{invitation.pk}",
        detail={"participant": invitation.participant.research_code, "wave": invitation.wave_id},
    )
