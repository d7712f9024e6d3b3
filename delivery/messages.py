"""The emails themselves: one ``EmailMessage`` per delivery row, rendered at send time.

Participant mail uses ``templates/emails/invitation.{txt,html}`` and carries the
invitation's one stable link (``assessments.tokens.invitation_url``). Coordinator mail
names dyads by research code only and links to the coordinator pages.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from assessments.measurement.rules import ALERT_TEXT
from assessments.models import Role
from assessments.tokens import invitation_url

from .models import Delivery, Kind
from .selectors import digest_rows

# What a worker loads with each row, so a batch renders without further queries.
RELATED = (
    "invitation__wave",
    "invitation__dyad__cohort__program",
    "invitation__dyad__mentor__user",
    "invitation__dyad__protege__user",
    "invitation__participant__user",
    "recipient",
    "program",
    "dyad__cohort",
    "wave",
)


def participant_subject(*, program: str, reminder: bool) -> str:
    """``Your survey from Bridges`` / ``Reminder: your survey from Bridges``: reads the
    same whatever the program is called."""
    if reminder:
        return _("Reminder: your survey from %(program)s") % {"program": program}
    return _("Your survey from %(program)s") % {"program": program}


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _participant_message(delivery: Delivery) -> EmailMultiAlternatives:
    invitation = delivery.invitation
    dyad, wave, person = invitation.dyad, invitation.wave, invitation.participant
    reminder = delivery.kind == Kind.REMINDER
    context = {
        "name": dyad.name_in_dyad(person),
        "partner": dyad.name_in_dyad(dyad.partner_of(person)),
        "role": Role(dyad.role_of(person)).label.lower(),
        "program": dyad.cohort.program.name,
        "wave": wave,
        "closes_at": wave.closes_at,
        "link": invitation_url(invitation),
        "reminder": reminder,
    }
    message = EmailMultiAlternatives(
        subject=participant_subject(program=context["program"], reminder=reminder),
        body=render_to_string("emails/invitation.txt", context),
        to=[person.email],
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    return message


def _cohort_link(cohort, name: str, *extra: str) -> str:
    return _site(reverse(f"coordinate:{name}", args=[cohort.program.slug, cohort.slug, *extra]))


def _alert_message(delivery: Delivery) -> EmailMessage:
    dyad, wave, user = delivery.dyad, delivery.wave, delivery.recipient
    reason = delivery.topic.rsplit("/", 1)[-1]
    context = {
        "name": user.get_full_name() or user.email,
        "program": delivery.program.name,
        "cohort": dyad.cohort,
        "dyad": dyad,
        "wave": wave,
        "reason": _(ALERT_TEXT[reason]),
        "link": _cohort_link(dyad.cohort, "dyad", dyad.research_code),
    }
    subject = _("Alert in %(program)s: dyad %(code)s") % {
        "program": delivery.program.name,
        "code": dyad.research_code,
    }
    body = render_to_string("emails/coordinator_alert.txt", context)
    return EmailMessage(subject=subject, body=body, to=[user.email])


def _digest_message(delivery: Delivery, rows: list[dict[str, Any]]) -> EmailMessage:
    user = delivery.recipient
    for row in rows:
        row["link"] = _cohort_link(row["cohort_object"], "alerts")
    context = {
        "name": user.get_full_name() or user.email,
        "program": delivery.program.name,
        "waves": rows,
    }
    subject = _("This week in %(program)s") % {"program": delivery.program.name}
    body = render_to_string("emails/coordinator_digest.txt", context)
    return EmailMessage(subject=subject, body=body, to=[user.email])


def delivery_message(delivery: Delivery, *, now) -> EmailMessage:
    """The email for ``delivery`` (its related rows loaded with ``RELATED``)."""
    if delivery.kind in (Kind.INVITATION, Kind.REMINDER):
        return _participant_message(delivery)
    if delivery.kind == Kind.ALERT:
        return _alert_message(delivery)
    return _digest_message(delivery, digest_rows(program=delivery.program, now=now))


def recipient_address(delivery: Delivery) -> str:
    """The address the row's email goes to (empty when the person has none)."""
    if delivery.kind in (Kind.INVITATION, Kind.REMINDER):
        user = delivery.invitation.participant.user
    else:
        user = delivery.recipient
    return user.email if user is not None and user.is_active else ""
