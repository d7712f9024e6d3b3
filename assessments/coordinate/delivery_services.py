"""Coordinator writes of email delivery: send buttons, retries, wording, schedule and
notices, each recorded in the audit trail with who, what and the program (DESIGN §7).

The writes themselves are ``delivery.services``; these wrappers check that what is
touched belongs to the program and record it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from assessments import invitations
from assessments.models import Wave
from audit.models import AuditEvent
from audit.services import audit_record
from delivery import services as delivery_services
from delivery.models import (
    Audience,
    Delivery,
    DeliveryBatch,
    DeliverySchedule,
    MessageTemplate,
    NotificationPreference,
)
from relationships.models import Program, User

DELIVERY_RETRIED = AuditEvent.Action.DELIVERY_RETRIED
WORDING_CHANGED = AuditEvent.Action.WORDING_CHANGED
WORDING_TESTED = AuditEvent.Action.WORDING_TESTED
SCHEDULE_CHANGED = AuditEvent.Action.SCHEDULE_CHANGED
NOTICES_CHANGED = AuditEvent.Action.NOTICES_CHANGED

SEND_ACTIONS = {
    Audience.NOT_INVITED: AuditEvent.Action.INVITATIONS_SENT,
    Audience.NOT_SUBMITTED: AuditEvent.Action.REMINDERS_SENT,
}


def _record(action: str, *, actor: User, program: Program, target: str, detail: dict) -> None:
    audit_record(action=action, actor=actor, target=target, detail=detail, program=program.slug)


def wave_send(*, wave: Wave, audience: str, actor: User) -> DeliveryBatch:
    """Ask for the wave's invitations (``not_invited``) or everyone's next message
    (``not_submitted``); returns the batch at once, the worker plans and sends it.
    Raises ``ValidationError`` (``WaveClosed`` when the wave is not open)."""
    if audience not in SEND_ACTIONS:
        raise ValidationError(_("Choose whom to send to."))
    batch = invitations.wave_send_request(wave=wave, audience=audience, requested_by=actor)
    _record(
        SEND_ACTIONS[audience],
        actor=actor,
        program=wave.cohort.program,
        target=f"{wave.cohort.path} wave {wave.number}",
        detail={"sent": batch.total, "batch": batch.pk, "audience": audience},
    )
    return batch


@transaction.atomic
def delivery_retry(*, delivery: Delivery, program: Program, actor: User) -> Delivery:
    """Send a failed message of the program again (same link). Raises
    ``ValidationError`` unless it failed."""
    retried = delivery_services.delivery_retry(delivery=delivery)
    dyad = retried.invitation.dyad.research_code if retried.invitation_id else ""
    _record(
        DELIVERY_RETRIED,
        actor=actor,
        program=program,
        target=f"{retried.get_kind_display()} #{retried.pk}" + (f", dyad {dyad}" if dyad else ""),
        detail={"delivery": retried.pk, "kind": retried.kind, "sequence": retried.sequence},
    )
    return retried


@transaction.atomic
def message_template_save(
    *, program: Program, kind: str, subject: str, body: str, actor: User
) -> MessageTemplate:
    """Store the program's wording of ``kind``. Raises ``ValidationError``."""
    template = delivery_services.message_template_save(
        program=program, kind=kind, subject=subject, body=body, user=actor
    )
    _record(WORDING_CHANGED, actor=actor, program=program, target=f"{program.slug} {kind}",
            detail={"subject": template.subject, "body": template.body})  # fmt: skip
    return template


@transaction.atomic
def message_template_reset(*, program: Program, kind: str, actor: User) -> bool:
    """Go back to the default wording of ``kind``; returns whether anything changed."""
    changed = delivery_services.message_template_reset(program=program, kind=kind)
    if changed:
        _record(WORDING_CHANGED, actor=actor, program=program, target=f"{program.slug} {kind}",
                detail={"reset": True})  # fmt: skip
    return changed


def test_message_send(*, program: Program, kind: str, actor: User) -> bool:
    """Queue the saved wording of ``kind`` to the coordinator themselves, filled with
    made-up people; returns False when one was queued within the minute."""
    if kind not in MessageTemplate.Purpose.values:
        raise ValidationError(_("Unknown message."))
    queued = delivery_services.test_message_enqueue(program=program, kind=kind, recipient=actor)
    if queued:
        _record(WORDING_TESTED, actor=actor, program=program, target=f"{program.slug} {kind}",
                detail={"to": actor.email})  # fmt: skip
    return queued


def _schedule_fields(schedule: DeliverySchedule | None) -> dict:
    if schedule is None:
        return {"enabled": False}
    fields = {name: getattr(schedule, name) for name in delivery_services.SCHEDULE_FIELDS}
    return {"enabled": True, **fields}


@transaction.atomic
def program_schedule_save(
    *, program: Program, enabled: bool, actor: User, **fields
) -> DeliverySchedule | None:
    """Set or remove the program's schedule, recording what changed. Raises
    ``ValidationError`` (``DeliverySchedule.clean``)."""
    before = _schedule_fields(
        DeliverySchedule.objects.filter(program=program, wave__isnull=True).first()
    )
    schedule = delivery_services.program_schedule_save(program=program, enabled=enabled, **fields)
    after = _schedule_fields(schedule)
    changes = {k: [before.get(k), after.get(k)] for k in after.keys() | before.keys()
               if before.get(k) != after.get(k)}  # fmt: skip
    if changes:
        _record(SCHEDULE_CHANGED, actor=actor, program=program, target=f"{program.slug} schedule",
                detail=changes)  # fmt: skip
    return schedule


@transaction.atomic
def notification_preference_save(
    *, program: Program, alerts: str, actor: User
) -> NotificationPreference:
    """Set how the coordinator hears about the program's alerts. Raises
    ``ValidationError``."""
    found = delivery_services.notification_preference_save(
        user=actor, program=program, alerts=alerts
    )
    _record(NOTICES_CHANGED, actor=actor, program=program, target=f"{program.slug} notices",
            detail={"alerts": alerts})  # fmt: skip
    return found
