"""The emails themselves: one ``EmailMessage`` per delivery row, rendered at send time.

Participant mail is the program's wording of its invitation or reminder (or the
default one, ``delivery.wording``) and carries the invitation's one stable link
(``assessments.tokens.invitation_url``). A test message is that wording filled with
made-up people, to the coordinator who asked. Coordinator notices name dyads by
research code only and link to the coordinator pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from assessments.measurement.rules import ALERT_TEXT
from assessments.models import Role
from assessments.tokens import invitation_url
from relationships.languages import email_language

from . import wording
from .digest import digest_rows
from .models import Delivery, Kind, MessageTemplate
from .notices import coordinator_language
from .selectors import message_templates

Templates = dict[tuple[int, str], MessageTemplate]

# What a worker loads with each row, so a batch renders without further queries.
RELATED = (
    "invitation__wave",
    "invitation__dyad__cohort__program",
    "invitation__dyad__mentor__user",
    "invitation__dyad__protege__user",
    "invitation__participant__user",
    "recipient__participant",
    "program",
    "dyad__cohort",
    "wave",
)


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@dataclass(frozen=True)
class Wording:
    """The subject and body a participant email is filled from (``delivery.wording``)."""

    subject: str
    body: str


def program_wording(program_id: int, kind: str, templates: Templates | None = None) -> Wording:
    """The program's own wording of ``kind`` (invitation or reminder), else the default;
    ``templates`` preloaded by ``selectors.message_templates`` spares the query."""
    if templates is None:
        templates = message_templates(program_ids={program_id})
    own = templates.get((program_id, kind))
    if own is not None:
        return Wording(own.subject, own.body)
    return Wording(wording.default_subject(kind), wording.default_body(kind))


def long_date(moment: dt.datetime) -> str:
    """``moment``'s day written out in the active language: "14 March 2027", "14 de
    marzo de 2027", "14 mars 2027" (each language's own ``DATE_FORMAT``, English as
    day-month-year)."""
    language = translation.get_language() or "en"
    shape = "j F Y" if language.startswith("en") else "DATE_FORMAT"
    return date_format(timezone.localtime(moment), shape)


def closes_on(wave) -> str:
    return long_date(wave.closes_at)


def participant_values(invitation) -> dict[str, str]:
    """The placeholders of one invitation's email: names as the dyad's program supplied
    them, and the invitation's one link."""
    dyad, wave, person = invitation.dyad, invitation.wave, invitation.participant
    return {
        "name": dyad.name_in_dyad(person),
        "partner": dyad.name_in_dyad(dyad.partner_of(person)),
        "role": str(Role(dyad.role_of(person)).label).lower(),
        "program": dyad.cohort.program.name,
        "wave": wave.label or _("Wave %(number)d") % {"number": wave.number},
        "closes_on": closes_on(wave),
        "link": invitation_url(invitation),
    }


def example_values(program_name: str, now) -> dict[str, str]:
    """Placeholders filled with made-up people, for a preview or a test message."""
    closes = now + dt.timedelta(days=14)
    return {
        "name": "Alex Example",
        "partner": "Sam Example",
        "role": str(Role.PROTEGE.label).lower(),
        "program": program_name,
        "wave": _("Wave %(number)d") % {"number": 1},
        "closes_on": long_date(closes),
        "link": _site(reverse("assessments:magic_link", args=["example-link-for-a-test"])),
    }


def filled_message(
    chosen: Wording, values: dict[str, str], to: str, subject_prefix: str = ""
) -> EmailMultiAlternatives:
    """An email whose text part is the filled body and whose HTML part is drawn from
    the same body by ``emails/message.html``, which escapes every word and value."""
    message = EmailMultiAlternatives(
        subject=subject_prefix + wording.one_line(wording.fill(chosen.subject, values)),
        body=wording.fill(chosen.body, values),
        to=[to],
    )
    html = render_to_string(
        "emails/message.html", {"paragraphs": wording.paragraphs(chosen.body, values)}
    )
    message.attach_alternative(html, "text/html")
    return message


def _participant_message(delivery: Delivery, templates: Templates | None) -> EmailMessage:
    """In the participant's language (``relationships.languages.email_language``): the
    default wording, the role, the wave and the closing date; a program's own wording
    goes out as the program wrote it."""
    invitation = delivery.invitation
    program = invitation.dyad.cohort.program
    with translation.override(email_language(participant=invitation.participant, program=program)):
        chosen = program_wording(program.pk, delivery.kind, templates)
        values = participant_values(invitation)
        return filled_message(chosen, values, invitation.participant.email)


def _test_message(delivery: Delivery, templates: Templates | None, now) -> EmailMessage:
    """In the program's default language, as a participant who has not chosen reads it."""
    kind = delivery.topic.rsplit("/", 1)[-1]
    with translation.override(delivery.program.default_language):
        chosen = program_wording(delivery.program_id, kind, templates)
        values = example_values(delivery.program.name, now)
        return filled_message(chosen, values, delivery.recipient.email, _("[Test] "))


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


def delivery_message(
    delivery: Delivery, *, now, templates: Templates | None = None
) -> EmailMessage:
    """The email for ``delivery`` (its related rows loaded with ``RELATED``; the
    programs' wordings with ``selectors.message_templates``, else read here).

    ``metadata`` names the row, so an API provider's tracking webhook can say which
    message bounced (``delivery.bounces``); the SMTP backend ignores it.
    """
    if delivery.kind in (Kind.INVITATION, Kind.REMINDER):
        message = _participant_message(delivery, templates)
    elif delivery.kind == Kind.TEST:
        message = _test_message(delivery, templates, now)
    elif delivery.kind == Kind.ALERT:
        with translation.override(
            coordinator_language(user=delivery.recipient, program=delivery.program)
        ):
            message = _alert_message(delivery)
    else:
        with translation.override(
            coordinator_language(user=delivery.recipient, program=delivery.program)
        ):
            rows = digest_rows(program=delivery.program, now=now)
            message = _digest_message(delivery, rows)
    message.metadata = {"delivery": str(delivery.pk)}
    return message


def recipient_address(delivery: Delivery) -> str:
    """The address the row's email goes to (empty when the person has none)."""
    if delivery.kind in (Kind.INVITATION, Kind.REMINDER):
        user = delivery.invitation.participant.user
    else:
        user = delivery.recipient
    return user.email if user is not None and user.is_active else ""
