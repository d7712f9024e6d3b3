"""Writes of the delivery log: send batches, scheduled messages, retries, and the
scheduler's run (which also queues the coordinator notices of ``notices``).

Every message enters the log through ``Delivery.objects.enqueue`` (``bulk_create``
with ``ignore_conflicts``) against its unique key, so a repeated request, a second
scheduler or a rerun adds nothing. Nothing here talks to a mail server: the worker
(``delivery.worker``) does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Invitation, Wave, WaveClosed
from relationships.models import Program

from . import notices, queue
from .cadence import Due, due_messages, within_sending_hours
from .models import (
    Audience,
    Delivery,
    DeliveryBatch,
    DeliverySchedule,
    Kind,
    MessageTemplate,
    NotificationPreference,
)
from .selectors import (
    audience_message,
    cadence_partners,
    log_states,
    submitted_partners,
    wave_partners,
)

INSERT_CHUNK = 2000
Key = tuple[int, int]  # (dyad id, participant id)


def _check_open(wave: Wave, now: dt.datetime | None = None) -> None:
    if not wave.is_open(now):
        raise WaveClosed(_("Invitations go out only while a wave is open."))


# --- invitations of a wave -----------------------------------------------------------------


def invitations_ensure(*, wave: Wave, keys: Iterable[Key]) -> dict[Key, Invitation]:
    """The wave's invitations by (dyad, participant), creating those missing for ``keys``
    (their links are fixed from then on)."""
    fields = ("pk", "dyad_id", "participant_id", "revoked_at", "sent_at", "nonce", "wave_id")

    def read() -> dict[Key, Invitation]:
        found = Invitation.objects.filter(wave=wave).only(*fields)
        return {(i.dyad_id, i.participant_id): i for i in found}

    existing = read()
    missing = [
        Invitation(wave=wave, dyad_id=dyad, participant_id=person)
        for dyad, person in keys
        if (dyad, person) not in existing
    ]
    if not missing:
        return existing
    Invitation.objects.bulk_create(missing, ignore_conflicts=True, batch_size=INSERT_CHUNK)
    return read()


def _row(batch: DeliveryBatch, invitation: Invitation, kind: str, sequence: int, now) -> Delivery:
    return Delivery(
        batch=batch,
        invitation_id=invitation.pk,
        kind=kind,
        sequence=sequence,
        created_at=now,
        next_attempt_at=now,
    )


def _audience_rows(batch: DeliveryBatch, now: dt.datetime) -> list[Delivery]:
    """The rows a batch asks for (rules: ``deliveries_enqueue``)."""
    wave = batch.wave
    chosen = batch.participant_ids if batch.audience == Audience.CHOSEN else None
    done = submitted_partners(wave=wave)
    keys = [
        (p.dyad_id, p.participant_id)
        for p in wave_partners(wave=wave, participant_ids=chosen)
        if (p.dyad_id, p.participant_id) not in done
    ]
    invitations = invitations_ensure(wave=wave, keys=keys)
    states = log_states(wave=wave)
    gap = dt.timedelta(hours=settings.DELIVERY_REMINDER_GAP_HOURS)
    rows = []
    for key in keys:
        invitation = invitations[key]
        message = audience_message(
            audience=batch.audience,
            state=states.get(invitation.pk),
            revoked=invitation.revoked_at is not None,
            now=now,
            gap=gap,
        )
        if message is not None:
            rows.append(_row(batch, invitation, *message, now))
    return rows


def batch_plan(*, batch: DeliveryBatch, now: dt.datetime | None = None) -> int:
    """Expand a send batch into delivery rows, once; returns how many it holds.

    Planning twice (a task run again) is a no-op. A wave that closed meanwhile gets no
    rows. Send tasks are enqueued for the new rows.
    """
    now = now or timezone.now()
    with transaction.atomic():
        taken = DeliveryBatch.objects.filter(pk=batch.pk, planned_at__isnull=True).update(
            planned_at=now
        )
        if not taken:
            return DeliveryBatch.objects.get(pk=batch.pk).total
        wave = Wave.objects.select_related("cohort").get(pk=batch.wave_id)
        batch.wave = wave
        if wave.is_open(now):
            Delivery.objects.enqueue(_audience_rows(batch, now))
        total = Delivery.objects.filter(batch=batch).count()
        DeliveryBatch.objects.filter(pk=batch.pk).update(total=total)
    batch.planned_at, batch.total = now, total
    queue.send_soon(total)
    return total


def batch_request(
    *,
    wave: Wave,
    audience: str,
    participant_ids: list[int] | None = None,
    requested_by=None,
) -> DeliveryBatch:
    """Ask for a send (a coordinator's button): one row and one task, so the request
    takes milliseconds whatever the wave's size; the worker plans and sends it.

    Raises ``WaveClosed`` when the wave is not open, ``ValidationError`` on an unknown
    audience or a ``chosen`` batch without people.
    """
    _check_open(wave)
    if audience not in Audience.values or audience == Audience.SCHEDULED:
        raise ValidationError(_("Choose whom to send to."))
    if audience == Audience.CHOSEN and not participant_ids:
        raise ValidationError(_("Choose whom to remind."))
    batch = DeliveryBatch.objects.create(
        wave=wave,
        audience=audience,
        participant_ids=sorted(participant_ids or []),
        requested_by=requested_by,
    )
    queue.plan_soon(batch.pk)
    return batch


def deliveries_enqueue(
    *,
    wave: Wave,
    audience: str,
    participant_ids: list[int] | None = None,
    requested_by=None,
    now: dt.datetime | None = None,
) -> DeliveryBatch:
    """Queue a wave's messages now (commands, one person's reminder) and return the
    planned batch (``total``: how many messages it queued).

    Whom each audience reaches, among partners of the wave's active dyads who have an
    email address, have not submitted and whose link is not revoked:
    - ``not_invited``: an invitation to each partner without one;
    - ``not_submitted``: each partner's next message: the invitation if never invited,
      else a reminder;
    - ``chosen``: a reminder to each of ``participant_ids``, invited or not.
    No reminder is queued while an earlier message to that partner is on its way, nor
    within ``DELIVERY_REMINDER_GAP_HOURS`` of their last reminder (double clicks).
    Raises ``WaveClosed`` when the wave is not open.
    """
    _check_open(wave, now)
    batch = DeliveryBatch.objects.create(
        wave=wave,
        audience=audience,
        participant_ids=sorted(participant_ids or []),
        requested_by=requested_by,
        created_at=now or timezone.now(),
    )
    batch_plan(batch=batch, now=now)
    return batch


def delivery_retry(*, delivery: Delivery, now: dt.datetime | None = None) -> Delivery:
    """Queue a failed message again at once, with fresh attempts; its key and its link
    stay. Raises ``ValidationError`` unless the message failed."""
    now = now or timezone.now()
    again = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.FAILED).update(
        status=Delivery.Status.QUEUED, attempts=0, next_attempt_at=now, claim=""
    )
    if not again:
        raise ValidationError(_("Only a failed message can be sent again."))
    queue.send_soon(1)
    delivery.refresh_from_db()
    return delivery


# --- what coordinators set: wording, schedule, notices -------------------------------------


def message_template_save(
    *, program: Program, kind: str, subject: str, body: str, user=None
) -> MessageTemplate:
    """Store the program's wording of its invitation or reminder (one per kind).

    Raises ``ValidationError`` on an unknown placeholder, a body without ``{link}`` or a
    subject of more than one line (``delivery.wording``).
    """
    template = MessageTemplate.objects.filter(program=program, kind=kind).first()
    template = template or MessageTemplate(program=program, kind=kind)
    template.subject, template.body, template.updated_by = subject.strip(), body.strip(), user
    template.full_clean(exclude=["program", "updated_by"])
    template.save()
    return template


def message_template_reset(*, program: Program, kind: str) -> bool:
    """Go back to the default wording; returns whether the program had its own."""
    deleted, _by_model = MessageTemplate.objects.filter(program=program, kind=kind).delete()
    return bool(deleted)


def test_message_enqueue(
    *, program: Program, kind: str, recipient, now: dt.datetime | None = None
) -> bool:
    """Queue the program's saved wording of ``kind``, filled with example values, to
    ``recipient`` (a coordinator trying it). At most one a minute per wording and
    person, so a double click sends one; returns whether this call queued it."""
    now = now or timezone.now()
    key = {
        "recipient": recipient,
        "kind": Kind.TEST,
        "topic": f"wording/{program.pk}/{kind}",
        "sequence": int(now.timestamp()) // 60,
    }
    if Delivery.objects.filter(**key).exists():
        return False
    Delivery.objects.enqueue([Delivery(**key, program=program, created_at=now,
                                       next_attempt_at=now)])  # fmt: skip
    queue.send_soon(1)
    return True


SCHEDULE_FIELDS = (
    "invite_on_open",
    "reminder_days_after",
    "reminder_days_before_close",
    "max_reminders",
    "send_from_hour",
    "send_until_hour",
    "time_zone",
)


@transaction.atomic
def program_schedule_save(*, program: Program, enabled: bool, **fields) -> DeliverySchedule | None:
    """Set the program's own schedule (``fields``: ``SCHEDULE_FIELDS``), or remove it
    when not ``enabled``: the program then sends only when a coordinator asks.
    Returns the schedule (None when removed). Raises ``ValidationError`` through
    ``DeliverySchedule.clean``; wave schedules are left as they are."""
    found = DeliverySchedule.objects.filter(program=program, wave__isnull=True).first()
    if not enabled:
        if found is not None:
            found.delete()
        return None
    schedule = found or DeliverySchedule(program=program)
    for name in SCHEDULE_FIELDS:
        setattr(schedule, name, fields[name])
    schedule.full_clean(exclude=["program", "wave"])
    schedule.save()
    return schedule


def notification_preference_save(*, user, program: Program, alerts: str) -> NotificationPreference:
    """Set how ``user`` hears about the program's alerts. Raises ``ValidationError``."""
    if alerts not in NotificationPreference.Alerts.values:
        raise ValidationError(_("Choose how to hear about alerts."))
    found, _created = NotificationPreference.objects.update_or_create(
        user=user, program=program, defaults={"alerts": alerts}
    )
    return found


# --- the schedule --------------------------------------------------------------------------


def scheduled_waves(*, now: dt.datetime) -> list[tuple[Wave, DeliverySchedule]]:
    """Open waves whose program (or the wave itself) has a schedule (two queries)."""
    waves = list(Wave.objects.open_at(now).select_related("cohort__program"))
    schedules = DeliverySchedule.objects.filter(
        Q(wave__in=waves) | Q(wave__isnull=True, program__in={w.cohort.program_id for w in waves})
    )
    by_wave = {s.wave_id: s for s in schedules if s.wave_id}
    by_program = {s.program_id: s for s in schedules if not s.wave_id}
    chosen = [(w, by_wave.get(w.pk) or by_program.get(w.cohort.program_id)) for w in waves]
    return [(wave, schedule) for wave, schedule in chosen if schedule is not None]


def _due_rows(wave: Wave, due: list[Due], now: dt.datetime) -> int:
    invitations = invitations_ensure(wave=wave, keys=[d.key for d in due])
    batch = DeliveryBatch.objects.create(
        wave=wave, audience=Audience.SCHEDULED, created_at=now, planned_at=now
    )
    Delivery.objects.enqueue(
        [_row(batch, invitations[d.key], d.kind, d.sequence, now) for d in due]
    )
    total = Delivery.objects.filter(batch=batch).count()
    if not total:  # another scheduler queued them first
        batch.delete()
        return 0
    DeliveryBatch.objects.filter(pk=batch.pk).update(total=total)
    return total


def wave_schedule_run(*, wave: Wave, schedule: DeliverySchedule, now: dt.datetime) -> int:
    """Queue what the wave's schedule makes due at ``now``; returns how many."""
    cadence = schedule.cadence
    if not within_sending_hours(now, cadence):
        return 0
    existing = invitations_ensure(wave=wave, keys=[])
    partners = cadence_partners(wave=wave, invitations=existing)
    due = due_messages(
        now=now,
        opens_at=wave.opens_at,
        closes_at=wave.closes_at,
        cadence=cadence,
        partners=partners,
    )
    return _due_rows(wave, due, now) if due else 0


# --- the scheduler's tick ------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """What one scheduler run queued."""

    scheduled: int
    alerts: int
    digests: int
    waiting: bool

    def __str__(self) -> str:
        return (
            f"{self.scheduled} scheduled, {self.alerts} alerts, {self.digests} digests queued"
            + ("; due messages handed to the workers" if self.waiting else "")
        )


def schedule_run(*, now: dt.datetime | None = None) -> Tick:
    """One scheduler run: queue what each schedule makes due, the coordinators' alerts
    and digests, then hand due messages to the workers (also those whose retry came
    due or whose worker died). Safe to run on several machines at once."""
    now = now or timezone.now()
    scheduled = sum(
        wave_schedule_run(wave=wave, schedule=schedule, now=now)
        for wave, schedule in scheduled_waves(now=now)
    )
    alerts = notices.alert_notices_enqueue(now=now)
    digests = notices.digests_enqueue(now=now)
    fresh = scheduled + alerts + digests
    due = Delivery.objects.claimable(now=now, lease_seconds=settings.DELIVERY_LEASE_SECONDS)
    waiting = bool(fresh) or due.exists()
    if waiting:  # one task is enough for rows no task took (a retry came due, a worker died)
        queue.send_soon(fresh or 1)
    return Tick(scheduled=scheduled, alerts=alerts, digests=digests, waiting=waiting)
