"""Writes of the coordinator pages: alert follow-ups, waves, mail buttons, cohorts and
dyads.

Keyword-only, atomic, validating before saving. Every write made here is recorded in the
audit trail with who (``actor``), what, when and the program (DESIGN §7); the cohort and
dyad writes of ``relationships.services`` are reached through the wrappers below so
that the coordinator pages record them too. A reminder to one partner goes through
the shared ``assessments.invitations``; a whole wave's send buttons, retries and email
settings are in ``delivery_services``.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import invitations
from assessments.models import AlertFollowUp, Instrument, Response, Role, Wave
from assessments.results import aggregates
from audit.models import AuditEvent
from audit.services import audit_record
from relationships import services as relationship_services
from relationships.models import Cohort, Dyad, Program, User

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
    aggregates.follow_up_recorded(follow_up=follow_up)
    _recorded(
        AuditEvent.Action.FOLLOW_UP,
        actor=user,
        cohort=wave.cohort,
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
    actor: User,
    label: str = "",
) -> Wave:
    """Add the cohort's next wave (number = last + 1). Raises ``ValidationError``."""
    _check_dates(opens_at, closes_at)
    last = cohort.waves.aggregate(last=Max("number"))["last"] or 0
    try:
        with transaction.atomic():
            wave = Wave.objects.create(
                cohort=cohort,
                number=last + 1,
                label=label.strip(),
                opens_at=opens_at,
                closes_at=closes_at,
                instrument=instrument,
            )
    except IntegrityError:  # another coordinator added a wave at the same moment
        raise ValidationError(_("Another wave was just added; please try again.")) from None
    _recorded(
        AuditEvent.Action.WAVE_SCHEDULED,
        actor=actor,
        cohort=cohort,
        target=_wave_target(wave),
        detail=_wave_fields(wave),
    )
    return wave


@transaction.atomic
def wave_reschedule(
    *,
    wave: Wave,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    instrument: Instrument,
    actor: User,
    label: str = "",
) -> Wave:
    """Change a wave's dates, label or instrument; recorded as closing the wave when the
    change ends a wave that had not closed yet.

    The instrument cannot change once anyone has answered the wave. Raises
    ``ValidationError``.
    """
    _check_dates(opens_at, closes_at)
    if instrument.pk != wave.instrument_id and Response.objects.filter(wave=wave).exists():
        raise ValidationError(
            {"instrument": _("People have answered this wave; its instrument stays.")}
        )
    before, closes = _wave_fields(wave), _closes_now(wave, closes_at)
    wave.opens_at, wave.closes_at, wave.instrument, wave.label = (
        opens_at,
        closes_at,
        instrument,
        label.strip(),
    )
    wave.save(update_fields=["opens_at", "closes_at", "instrument", "label"])
    after = _wave_fields(wave)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    action = AuditEvent.Action.WAVE_CLOSED if closes else AuditEvent.Action.WAVE_CHANGED
    _recorded(action, actor=actor, cohort=wave.cohort, target=_wave_target(wave), detail=changes)
    return wave


def _check_dates(opens_at: dt.datetime, closes_at: dt.datetime) -> None:
    if closes_at <= opens_at:
        raise ValidationError({"closes_at": _("A wave must close after it opens.")})


def _closes_now(wave: Wave, closes_at: dt.datetime) -> bool:
    """Whether moving the wave's close to ``closes_at`` ends a wave that had not closed."""
    return wave.closes_at > timezone.now() >= closes_at


def _wave_target(wave: Wave) -> str:
    return f"{wave.cohort.path} wave {wave.number}"


def _wave_fields(wave: Wave) -> dict[str, str]:
    """A wave's settable fields as JSON text, to record and compare."""
    return {
        "label": wave.label,
        "opens_at": wave.opens_at.isoformat(),
        "closes_at": wave.closes_at.isoformat(),
        "instrument": wave.instrument.label,
    }


def dyad_remind(*, dyad: Dyad, wave: Wave, role: str, actor: User) -> int:
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
    sent = invitations.reminders_send(wave=wave, participants=[person])
    _recorded(
        AuditEvent.Action.REMINDERS_SENT,
        actor=actor,
        cohort=wave.cohort,
        target=f"dyad {dyad.research_code}, wave {wave.number}",
        detail={"sent": sent, "role": role},
    )
    return sent


# --- cohorts and dyads (``relationships.services``, recorded) -------------------------------


@transaction.atomic
def cohort_create(
    *,
    program: Program,
    actor: User,
    name: str,
    slug: str = "",
    started_on: dt.date | None = None,
) -> Cohort:
    """``relationships.services.cohort_create``, recorded. Raises ``ValidationError``."""
    cohort = relationship_services.cohort_create(
        program=program, name=name, slug=slug, started_on=started_on
    )
    _recorded(
        AuditEvent.Action.COHORT_CREATED,
        actor=actor,
        cohort=cohort,
        target=cohort.path,
        detail={"name": cohort.name, "started_on": cohort.started_on.isoformat()},
    )
    return cohort


@transaction.atomic
def dyad_create(*, cohort: Cohort, row: relationship_services.DyadRow, actor: User) -> Dyad:
    """``relationships.services.dyad_create``, recorded. Raises ``DyadImportError``."""
    dyad = relationship_services.dyad_create(cohort=cohort, row=row)
    _recorded(
        AuditEvent.Action.DYAD_CREATED,
        actor=actor,
        cohort=cohort,
        target=f"dyad {dyad.research_code}",
        detail={"cohort": cohort.slug},
    )
    return dyad


@transaction.atomic
def dyads_import(*, cohort: Cohort, text: str, actor: User) -> relationship_services.ImportPlan:
    """``relationships.services.dyads_import``, recorded. Raises ``DyadImportError``."""
    plan = relationship_services.dyads_import(cohort=cohort, text=text)
    _recorded(
        AuditEvent.Action.DYADS_IMPORTED,
        actor=actor,
        cohort=cohort,
        target=cohort.path,
        detail={"dyads": len(plan.dyads), "new_participants": len(plan.new_people)},
    )
    return plan


@transaction.atomic
def dyad_end(*, dyad: Dyad, actor: User, ended_on: dt.date | None = None) -> Dyad:
    """``relationships.services.dyad_end``, recorded. Raises ``ValidationError``."""
    dyad = relationship_services.dyad_end(dyad=dyad, ended_on=ended_on)
    _recorded(
        AuditEvent.Action.DYAD_ENDED,
        actor=actor,
        cohort=dyad.cohort,
        target=f"dyad {dyad.research_code}",
        detail={"ended_on": dyad.ended_on.isoformat()},
    )
    return dyad


def _recorded(
    action: str, *, actor: User, cohort: Cohort, target: str, detail: dict | None = None
) -> None:
    """One coordinator write in the audit trail, under the cohort's program."""
    audit_record(
        action=action, actor=actor, target=target, detail=detail, program=cohort.program.slug
    )
