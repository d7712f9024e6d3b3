"""Invitations and reminders: email each partner of a wave a magic link (DESIGN §7).

Shared by the coordinator pages and the ``send_invitations``/``send_reminders``
commands.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from relationships.models import Dyad, Participant

from .models import Invitation, Response, Role, Wave, WaveClosed
from .tokens import token_issue


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _message(invitation: Invitation, raw: str, *, reminder: bool) -> EmailMultiAlternatives:
    dyad, wave, person = invitation.dyad, invitation.wave, invitation.participant
    context = {
        "name": person.name or person.email,
        "partner": dyad.partner_of(person),
        "role": Role(dyad.role_of(person)).label.lower(),
        "program": dyad.cohort.program.name,
        "wave": wave,
        "closes_at": wave.closes_at,
        "link": _site_url(reverse("assessments:magic_link", args=[raw])),
        "reminder": reminder,
    }
    subject = (_("Reminder: ") if reminder else "") + _("Your %(program)s mentoring survey") % {
        "program": context["program"]
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/invitation.txt", context),
        to=[person.email],
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    return message


def _partners(
    wave: Wave, participants: Iterable[Participant] | None
) -> list[tuple[Dyad, Participant]]:
    dyads = (
        Dyad.objects.active()
        .filter(cohort_id=wave.cohort_id)
        .select_related("mentor__user", "protege__user", "cohort__program")
    )
    wanted = None if participants is None else {p.pk for p in participants}
    pairs = [(d, p) for d in dyads for p in (d.mentor, d.protege)]
    return [
        (d, p)
        for d, p in pairs
        if p.user_id and p.user.email and (wanted is None or p.pk in wanted)
    ]


def _invitations(wave: Wave, pairs) -> dict[tuple[int, int], Invitation]:
    existing = {
        (i.dyad_id, i.participant_id): i
        for i in Invitation.objects.filter(wave=wave).select_related("wave")
    }
    new = [
        Invitation(wave=wave, dyad=d, participant=p)
        for d, p in pairs
        if (d.pk, p.pk) not in existing
    ]
    Invitation.objects.bulk_create(new, ignore_conflicts=True)
    return {
        (i.dyad_id, i.participant_id): i
        for i in Invitation.objects.filter(wave=wave).select_related("wave")
    }


def _send(wave: Wave, pairs, *, reminder: bool) -> int:
    if not wave.is_open():
        raise WaveClosed(_("Invitations go out only while a wave is open."))
    invitations = _invitations(wave, pairs)
    messages, sent = [], []
    for dyad, person in pairs:
        invitation = invitations[(dyad.pk, person.pk)]
        if invitation.revoked_at is not None:
            continue
        invitation.dyad, invitation.participant = dyad, person
        messages.append(_message(invitation, token_issue(invitation=invitation), reminder=reminder))
        sent.append(invitation.pk)
    get_connection().send_messages(messages)
    now = timezone.now()
    if reminder:
        Invitation.objects.filter(pk__in=sent).update(
            reminded_at=now, reminder_count=F("reminder_count") + 1
        )
    else:
        Invitation.objects.filter(pk__in=sent).update(sent_at=now)
    return len(sent)


def invitations_send(*, wave: Wave) -> int:
    """Email every partner of the wave's active dyads a fresh magic link; returns the count."""
    return _send(wave, _partners(wave, None), reminder=False)


def reminders_send(*, wave: Wave, participants: Iterable[Participant] | None = None) -> int:
    """Remind partners who have not submitted the wave (optionally only ``participants``)."""
    done = set(
        Response.objects.submitted().filter(wave=wave).values_list("dyad_id", "respondent_id")
    )
    pairs = [(d, p) for d, p in _partners(wave, participants) if (d.pk, p.pk) not in done]
    return _send(wave, pairs, reminder=True)
