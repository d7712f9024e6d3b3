"""The delivery log, send batches, per-program schedules and coordinators' preferences."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import Invitation, Wave
from relationships.models import Dyad, Program

from . import wording
from .cadence import Cadence


class Kind(models.TextChoices):
    INVITATION = "invitation", _("Invitation")
    REMINDER = "reminder", _("Reminder")
    ALERT = "alert", _("Alert to coordinators")
    DIGEST = "digest", _("Weekly digest to coordinators")
    TEST = "test", _("Test message to a coordinator")


PARTICIPANT_KINDS = (Kind.INVITATION, Kind.REMINDER)
NOTICE_KINDS = (Kind.ALERT, Kind.DIGEST)
COORDINATOR_KINDS = (*NOTICE_KINDS, Kind.TEST)


class Audience(models.TextChoices):
    """Whom a send batch is for (the coordinator's choice, or the scheduler's)."""

    NOT_INVITED = "not_invited", _("Partners not yet invited")
    NOT_SUBMITTED = "not_submitted", _("Partners who have not submitted")
    CHOSEN = "chosen", _("A reminder to chosen partners")
    SCHEDULED = "scheduled", _("The program's schedule")


class DeliveryBatch(models.Model):
    """One request to send: a button, a command or a scheduler run.

    A web request only stores the batch and enqueues a task; the worker expands it
    into ``Delivery`` rows (``planned_at``, ``total``), so the request stays fast
    whatever the wave's size. Its progress is the status count of its rows.
    """

    wave = models.ForeignKey(
        Wave, on_delete=models.CASCADE, related_name="delivery_batches", null=True, blank=True
    )
    audience = models.CharField(max_length=16, choices=Audience.choices)
    participant_ids = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    planned_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} ({self.wave or 'notices'})"


class DeliveryQuerySet(models.QuerySet):
    def claimable(self, *, now, lease_seconds: int) -> DeliveryQuerySet:
        """Rows a worker may take: queued and due, or stuck in ``sending`` past the lease
        (their worker died)."""
        stale = now - timezone.timedelta(seconds=lease_seconds)
        return self.filter(
            Q(status=Delivery.Status.QUEUED, next_attempt_at__lte=now)
            | Q(status=Delivery.Status.SENDING, claimed_at__lt=stale)
        )

    def failed(self) -> DeliveryQuerySet:
        return self.filter(status=Delivery.Status.FAILED)

    def enqueue(self, rows: list[Delivery]) -> None:
        """Add rows to the log; a row whose unique key exists is skipped, so queueing
        again (a double click, a second scheduler, a rerun) adds nothing."""
        self.bulk_create(rows, ignore_conflicts=True, batch_size=2000)


class Delivery(models.Model):
    """One email: queued → sending → sent, or failed / cancelled (docs/delivery.md).

    Participant mail (invitation, reminder) is unique per (invitation, kind, sequence);
    coordinator mail (alert, digest, test) per (recipient, kind, topic, sequence). Enqueueing
    a row that exists is a no-op, so double clicks and concurrent schedulers never send
    twice. ``claim`` identifies the worker's claim; a row is marked sent only by the
    claim that sent it and only after the mail server accepted the message.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Not sent")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    sequence = models.PositiveIntegerField(default=0)
    batch = models.ForeignKey(
        DeliveryBatch,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        null=True,
        blank=True,
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, related_name="deliveries", null=True, blank=True
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notices",
        null=True,
        blank=True,
    )
    program = models.ForeignKey(Program, on_delete=models.CASCADE, null=True, blank=True)
    dyad = models.ForeignKey(Dyad, on_delete=models.CASCADE, null=True, blank=True)
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, null=True, blank=True)
    topic = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    to_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "kind", "sequence"],
                condition=Q(invitation__isnull=False),
                name="one_delivery_per_invitation_kind_sequence",
            ),
            models.UniqueConstraint(
                fields=["recipient", "kind", "topic", "sequence"],
                condition=Q(recipient__isnull=False),
                name="one_notice_per_recipient_kind_topic_sequence",
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=PARTICIPANT_KINDS) & Q(invitation__isnull=False))
                | (Q(kind__in=COORDINATOR_KINDS) & Q(recipient__isnull=False)),
                name="delivery_has_its_addressee",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["status", "claimed_at"], name="delivery_claimed"),
            models.Index(fields=["claim"], name="delivery_claim"),
            models.Index(fields=["batch", "status"], name="delivery_batch_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.sequence} ({self.get_status_display()})"


def default_days_after() -> list[int]:
    return [7, 14]


def default_days_before_close() -> list[int]:
    return [2]


class DeliverySchedule(models.Model):
    """When a program's invitations and reminders go out on their own.

    One row per program (``wave`` empty) and optionally one per wave overriding it.
    A program without a row sends nothing on its own: coordinators send by hand.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="schedules")
    wave = models.OneToOneField(
        Wave, on_delete=models.CASCADE, related_name="schedule", null=True, blank=True
    )
    invite_on_open = models.BooleanField(
        _("invite when the wave opens"),
        default=True,
        help_text=_("Also invites partners of dyads added while the wave is open."),
    )
    reminder_days_after = models.JSONField(
        _("reminders, days after the invitation"), default=default_days_after, blank=True
    )
    reminder_days_before_close = models.JSONField(
        _("reminders, days before the wave closes"),
        default=default_days_before_close,
        blank=True,
    )
    max_reminders = models.PositiveSmallIntegerField(_("at most this many reminders"), default=3)
    send_from_hour = models.PositiveSmallIntegerField(_("send from (hour)"), default=9)
    send_until_hour = models.PositiveSmallIntegerField(_("send until (hour)"), default=17)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program"],
                condition=Q(wave__isnull=True),
                name="one_schedule_per_program",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} schedule" + (f" ({self.wave})" if self.wave_id else "")

    def clean(self) -> None:
        try:
            _ = self.cadence
        except (ValueError, TypeError) as error:  # bad days, hours or zone
            raise ValidationError(str(error)) from error
        if self.wave_id and self.wave.cohort.program_id != self.program_id:
            raise ValidationError({"wave": _("The wave belongs to another program.")})

    @property
    def cadence(self) -> Cadence:
        """The pure settings ``cadence.due_messages`` works from; raises ``ValueError``."""
        return Cadence(
            invite_on_open=self.invite_on_open,
            days_after_invitation=tuple(self.reminder_days_after or ()),
            days_before_close=tuple(self.reminder_days_before_close or ()),
            max_reminders=self.max_reminders,
            send_from_hour=self.send_from_hour,
            send_until_hour=self.send_until_hour,
            time_zone=self.time_zone,
        )


class NotificationPreference(models.Model):
    """How one coordinator hears about a program's alerts (default: immediately)."""

    class Alerts(models.TextChoices):
        IMMEDIATE = "immediate", _("An email for each alert, and the weekly digest")
        DIGEST = "digest", _("The weekly digest only")
        NONE = "none", _("No email")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    alerts = models.CharField(max_length=10, choices=Alerts.choices, default=Alerts.IMMEDIATE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "program"], name="one_preference_per_program"),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.program}: {self.get_alerts_display()}"


class MessageTemplate(models.Model):
    """A program's own wording of its invitation or its reminder (``delivery.wording``).

    A subject and a plain-text body with named placeholders; the email's HTML part is
    drawn from the body. Without a row the program uses the default wording.
    """

    class Purpose(models.TextChoices):
        INVITATION = Kind.INVITATION.value, _("Invitation")
        REMINDER = Kind.REMINDER.value, _("Reminder")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Purpose.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "kind"], name="one_template_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.program}: {self.get_kind_display()}"

    def clean(self) -> None:
        problems = {
            "subject": wording.subject_problems(self.subject),
            "body": wording.body_problems(self.body),
        }
        problems = {field: found for field, found in problems.items() if found}
        if problems:
            raise ValidationError(problems)


class WorkerHeartbeat(models.Model):
    """A running ``manage.py delivery_worker`` process, as it last reported itself.

    The worker updates its row every few seconds while it runs and removes it when it
    stops cleanly; a killed worker's row stays and ages. ``/healthz`` reads the newest
    row to tell whether anything is taking work from the queue (docs/deployment.md).
    """

    name = models.CharField(max_length=200, unique=True)
    engine = models.CharField(max_length=40)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.name
