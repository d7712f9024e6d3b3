"""Reads of the delivery log: a batch's progress, a dyad's timeline, failures, what the
scheduler needs to know about a wave's partners (the weekly digest's figures are in
``digest``).

Each read is a fixed number of queries, whatever the size of the wave.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from assessments.models import Invitation, Response, Wave
from relationships.models import Cohort, Dyad, Program

from .cadence import Partner
from .models import Audience, Delivery, DeliveryBatch, Kind, MessageTemplate

# --- for the coordinator pages ------------------------------------------------------------


@dataclass(frozen=True)
class BatchProgress:
    """Where a send batch stands: ``planned`` once its rows exist; counts per status."""

    batch: DeliveryBatch
    planned: bool
    total: int
    queued: int
    sending: int
    sent: int
    failed: int
    cancelled: int

    @property
    def done(self) -> bool:
        return self.planned and self.queued == self.sending == 0


def batch_progress(*, batch: DeliveryBatch) -> BatchProgress:
    """Progress of one send batch, read fresh (two queries)."""
    batch.refresh_from_db(fields=["planned_at", "total"])
    counts = dict(
        Delivery.objects.filter(batch=batch)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    by = {status: counts.get(status, 0) for status in Delivery.Status.values}
    return BatchProgress(
        batch=batch,
        planned=batch.planned_at is not None,
        total=sum(by.values()),
        **by,
    )


def wave_batches(*, wave: Wave) -> QuerySet[DeliveryBatch]:
    """The wave's send batches, newest first, with who asked."""
    return DeliveryBatch.objects.filter(wave=wave).select_related("requested_by")


@dataclass(frozen=True)
class TimelineEvent:
    """One message of a dyad's history: to whom (role), which, and how it went."""

    delivery_id: int
    wave: int
    role: str
    kind: str
    sequence: int
    status: str
    queued_at: dt.datetime
    sent_at: dt.datetime | None
    attempts: int
    error: str


def dyad_timeline(*, dyad: Dyad) -> list[TimelineEvent]:
    """Every invitation and reminder of the dyad's partners, oldest first (one query)."""
    rows = (
        Delivery.objects.filter(invitation__dyad=dyad)
        .select_related("invitation__wave")
        .order_by("created_at", "pk")
    )
    return [
        TimelineEvent(
            delivery_id=row.pk,
            wave=row.invitation.wave.number,
            role="mentor" if row.invitation.participant_id == dyad.mentor_id else "protege",
            kind=row.kind,
            sequence=row.sequence,
            status=row.status,
            queued_at=row.created_at,
            sent_at=row.sent_at,
            attempts=row.attempts,
            error=row.last_error,
        )
        for row in rows
    ]


def failed_deliveries(
    *, program: Program, cohort: Cohort | None = None, wave: Wave | None = None
) -> QuerySet[Delivery]:
    """Messages of the program that failed for good, newest first, ready to retry;
    with ``cohort`` (or ``wave``), only participant mail of that cohort (or wave)."""
    found = Delivery.objects.failed().filter(
        Q(invitation__dyad__cohort__program=program) | Q(program=program)
    )
    if cohort is not None:
        found = found.filter(invitation__dyad__cohort=cohort)
    if wave is not None:
        found = found.filter(Q(invitation__wave=wave) | Q(wave=wave))
    return found.select_related(
        "invitation__participant",
        "invitation__wave",
        "invitation__dyad__cohort",
        "recipient",
    ).order_by("-updated_at", "-pk")


def program_delivery(*, program: Program, delivery_id: int) -> Delivery | None:
    """The program's message ``delivery_id`` (participant or coordinator mail), else None."""
    found = Delivery.objects.filter(
        Q(invitation__dyad__cohort__program=program) | Q(program=program), pk=delivery_id
    )
    return found.select_related("invitation__dyad", "invitation__wave").first()


def program_batch(*, cohort: Cohort, batch_id: int) -> DeliveryBatch | None:
    """The send batch ``batch_id`` of one of the cohort's waves, else None."""
    found = DeliveryBatch.objects.filter(pk=batch_id, wave__cohort=cohort)
    return found.select_related("wave", "requested_by").first()


def message_templates(*, program_ids: set[int]) -> dict[tuple[int, str], MessageTemplate]:
    """The programs' own wordings by ``(program id, kind)`` (one query, none for no
    program)."""
    if not program_ids:
        return {}
    rows = MessageTemplate.objects.filter(program_id__in=program_ids)
    return {(row.program_id, row.kind): row for row in rows}


# --- for the scheduler and the send batches -------------------------------------------------


@dataclass(frozen=True)
class WavePartner:
    """A partner of an active dyad in a wave, with an email address."""

    dyad_id: int
    participant_id: int


def wave_partners(*, wave: Wave, participant_ids: list[int] | None = None) -> list[WavePartner]:
    """Partners of the wave's active dyads who have an email address (one query)."""
    dyads = Dyad.objects.active().filter(cohort_id=wave.cohort_id)
    rows = dyads.values_list(
        "pk", "mentor_id", "mentor__user__email", "protege_id", "protege__user__email"
    )
    wanted = None if participant_ids is None else set(participant_ids)
    return [
        WavePartner(dyad_id, person)
        for dyad_id, mentor, mentor_email, protege, protege_email in rows
        for person, email in ((mentor, mentor_email), (protege, protege_email))
        if email and (wanted is None or person in wanted)
    ]


def submitted_partners(*, wave: Wave) -> set[tuple[int, int]]:
    """``(dyad_id, participant_id)`` of everyone who submitted the wave (one query)."""
    rows = Response.objects.submitted().filter(wave=wave).values_list("dyad_id", "respondent_id")
    return set(rows)


@dataclass(frozen=True)
class LogState:
    """What the log holds for one invitation's participant mail."""

    invited_at: dt.datetime | None
    reminders: int
    last_message_at: dt.datetime | None
    last_reminder_at: dt.datetime | None
    pending: bool


def log_states(*, wave: Wave) -> dict[int, LogState]:
    """Per invitation id of the wave: when it was invited, its highest reminder number,
    its latest message and reminder, whether a message is still on its way (one query).
    An invitation sent before the log existed counts by ``sent_at``."""
    rows = (
        Invitation.objects.filter(wave=wave)
        .annotate(
            invited=Min("deliveries__created_at", filter=Q(deliveries__kind=Kind.INVITATION)),
            reminders=Max("deliveries__sequence", filter=Q(deliveries__kind=Kind.REMINDER)),
            last=Max("deliveries__created_at"),
            last_reminder=Max("deliveries__created_at", filter=Q(deliveries__kind=Kind.REMINDER)),
            pending=Count(
                "deliveries",
                filter=Q(deliveries__status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING]),
            ),
        )
        .values_list("pk", "invited", "sent_at", "reminders", "last", "last_reminder", "pending")
    )
    return {
        pk: LogState(
            invited_at=invited or sent_at,
            reminders=reminders or 0,
            last_message_at=last or sent_at,
            last_reminder_at=last_reminder,
            pending=bool(pending),
        )
        for pk, invited, sent_at, reminders, last, last_reminder, pending in rows
    }


def audience_message(
    *, audience: str, state: LogState | None, revoked: bool, now: dt.datetime, gap: dt.timedelta
) -> tuple[str, int] | None:
    """The message (kind, sequence) a send batch for ``audience`` queues for one partner
    who has not submitted, or None (rules: ``services.deliveries_enqueue``)."""
    if revoked:
        return None
    invited = state is not None and state.invited_at is not None
    if audience == Audience.NOT_INVITED or (audience == Audience.NOT_SUBMITTED and not invited):
        return None if invited else (Kind.INVITATION, 0)
    recent = state and state.last_reminder_at and now - state.last_reminder_at < gap
    if state and (state.pending or recent):
        return None  # a double click, or a message still on its way
    return Kind.REMINDER, (state.reminders if state else 0) + 1


def audience_counts(*, wave: Wave, now: dt.datetime | None = None) -> dict[str, int]:
    """How many messages a send button would queue now, per audience (``not_invited``,
    ``not_submitted``), by the rules the worker plans with (four queries)."""
    now = now or timezone.now()
    gap = dt.timedelta(hours=settings.DELIVERY_REMINDER_GAP_HOURS)
    done = submitted_partners(wave=wave)
    invitations = {
        (dyad, person): (pk, revoked is not None)
        for pk, dyad, person, revoked in Invitation.objects.filter(wave=wave).values_list(
            "pk", "dyad_id", "participant_id", "revoked_at"
        )
    }
    states = log_states(wave=wave)
    counts = dict.fromkeys((Audience.NOT_INVITED, Audience.NOT_SUBMITTED), 0)
    for partner in wave_partners(wave=wave):
        key = (partner.dyad_id, partner.participant_id)
        if key in done:
            continue
        pk, revoked = invitations.get(key, (None, False))
        for audience in counts:
            state = states.get(pk)
            found = audience_message(
                audience=audience, state=state, revoked=revoked, now=now, gap=gap
            )
            counts[audience] += found is not None
    return {str(audience): n for audience, n in counts.items()}


def cadence_partners(
    *, wave: Wave, invitations: dict[tuple[int, int], Invitation]
) -> list[Partner]:
    """The wave's partners as ``cadence.due_messages`` reads them (three queries).

    Partners whose link was revoked are left out: nothing more goes to them.
    """
    done = submitted_partners(wave=wave)
    states = log_states(wave=wave)
    partners = []
    for person in wave_partners(wave=wave):
        key = (person.dyad_id, person.participant_id)
        invitation = invitations.get(key)
        if invitation is not None and invitation.revoked_at is not None:
            continue
        state = states.get(invitation.pk) if invitation is not None else None
        partners.append(
            Partner(
                key=key,
                invited_at=state.invited_at if state else None,
                reminders=state.reminders if state else 0,
                last_message_at=state.last_message_at if state else None,
                submitted=key in done,
            )
        )
    return partners
