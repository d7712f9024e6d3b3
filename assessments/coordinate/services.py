"""Writes of the coordinator pages: alert follow-ups, wave scheduling and mail buttons.

Keyword-only, atomic, validating before saving. Invitations and reminders go through
the shared ``assessments.invitations``; these wrappers only pick whom to send to.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from assessments import invitations
from assessments.models import AlertFollowUp, Instrument, Response, Role, Wave
from audit.models import AuditEvent
from audit.services import audit_record
from relationships.models import Cohort, Dyad, User

from .selectors.alerts import raised_alerts


@transaction.atomic
def alert_follow_up(*, dyad: Dyad, wave: Wave, reason: str, note: str, user: User) -> AlertFollowUp:
    """Record that a raised alert was followed up, with the note, who and when.

    Raises ``ValidationError`` when the note is empty, the wave is another cohort's,
    the alert is not raised now, or it was followed up already.
    """
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say briefly what was done.")})
    if wave.cohort_id != dyad.cohort_id:
        raise ValidationError(_("The wave belongs to another cohort."))
    if reason not in raised_alerts(dyad=dyad, wave=wave):
        raise ValidationError(_("This alert is not raised for the dyad in that wave."))
    if AlertFollowUp.objects.filter(dyad=dyad, wave=wave, reason=reason).exists():
        raise ValidationError(_("This alert has already been followed up."))
    try:
        with transaction.atomic():
            follow_up = AlertFollowUp.objects.create(
                dyad=dyad, wave=wave, reason=reason, note=note, created_by=user
            )
    except IntegrityError:  # a colleague followed it up at the same moment
        raise ValidationError(_("This alert has already been followed up.")) from None
    audit_record(
        action=AuditEvent.Action.FOLLOW_UP,
        actor=user,
        target=f"dyad {dyad.research_code}, wave {wave.number}",
        detail={"reason": reason},
    )
    return follow_up


@transaction.atomic
def wave_schedule(
    *,
    cohort: Cohort,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    instrument: Instrument,
    label: str = "",
) -> Wave:
    """Add the cohort's next wave (number = last + 1). Raises ``ValidationError``."""
    _check_dates(opens_at, closes_at)
    last = cohort.waves.aggregate(last=Max("number"))["last"] or 0
    try:
        with transaction.atomic():
            return Wave.objects.create(
                cohort=cohort,
                number=last + 1,
                label=label.strip(),
                opens_at=opens_at,
                closes_at=closes_at,
                instrument=instrument,
            )
    except IntegrityError:  # another coordinator added a wave at the same moment
        raise ValidationError(_("Another wave was just added; please try again.")) from None


@transaction.atomic
def wave_reschedule(
    *,
    wave: Wave,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    instrument: Instrument,
    label: str = "",
) -> Wave:
    """Change a wave's dates, label or instrument.

    The instrument cannot change once anyone has answered the wave. Raises
    ``ValidationError``.
    """
    _check_dates(opens_at, closes_at)
    if instrument.pk != wave.instrument_id and Response.objects.filter(wave=wave).exists():
        raise ValidationError(
            {"instrument": _("People have answered this wave; its instrument stays.")}
        )
    wave.opens_at, wave.closes_at, wave.instrument, wave.label = (
        opens_at,
        closes_at,
        instrument,
        label.strip(),
    )
    wave.save(update_fields=["opens_at", "closes_at", "instrument", "label"])
    return wave


def _check_dates(opens_at: dt.datetime, closes_at: dt.datetime) -> None:
    if closes_at <= opens_at:
        raise ValidationError({"closes_at": _("A wave must close after it opens.")})


def wave_invite(*, wave: Wave) -> int:
    """Send the wave's invitations; returns how many went out."""
    return invitations.invitations_send(wave=wave)


def wave_remind(*, wave: Wave) -> int:
    """Remind everyone who has not submitted the wave; returns how many went out."""
    return invitations.reminders_send(wave=wave)


def dyad_remind(*, dyad: Dyad, wave: Wave, role: str) -> int:
    """Remind one partner of a dyad who has not submitted an open wave.

    Raises ``ValidationError`` when the wave is not open, is another cohort's, the
    dyad has ended or that partner has already submitted.
    """
    if wave.cohort_id != dyad.cohort_id or not wave.is_open() or not dyad.is_active:
        raise ValidationError(_("Reminders go to active dyads of a wave that is open."))
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    done = Response.objects.submitted().filter(wave=wave, dyad=dyad, role=role).exists()
    if done:
        raise ValidationError(_("This partner has already submitted."))
    person = dyad.mentor if role == Role.MENTOR else dyad.protege
    return invitations.reminders_send(wave=wave, participants=[person])
