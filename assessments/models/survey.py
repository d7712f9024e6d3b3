"""Waves, invitations, responses and answers (DESIGN §2)."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from relationships.models import Cohort, Dyad, Participant

from .instruments import Instrument, Item, Role


class WaveClosed(ValidationError):
    """The wave is not open, so answers cannot change and no invitation goes out."""


class WaveQuerySet(models.QuerySet):
    def open_at(self, moment=None) -> WaveQuerySet:
        moment = moment or timezone.now()
        return self.filter(opens_at__lte=moment, closes_at__gt=moment)


def wave_name(number) -> str:
    """A wave named by its number alone, in the active language ("Wave 2")."""
    return gettext("Wave %(number)s") % {"number": number}


class Wave(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="waves")
    number = models.PositiveSmallIntegerField(_("number"))
    label = models.CharField(_("label"), max_length=100, blank=True)
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="waves")

    objects = WaveQuerySet.as_manager()

    class Meta:
        ordering = ["cohort", "number"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "number"], name="wave_number_unique"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="wave_closes_after_opening",
                violation_error_message=_("A wave must close after it opens."),
            ),
        ]

    def __str__(self) -> str:
        """The cohort's own label, else "Wave N" in the active language (a wave keeps
        no default label of its own, so its name follows each reader's language)."""
        return self.label or wave_name(self.number)

    def is_open(self, moment=None) -> bool:
        moment = moment or timezone.now()
        return self.opens_at <= moment < self.closes_at


def invitation_nonce() -> str:
    """A fresh random nonce for an invitation's link (revoking draws another)."""
    return secrets.token_urlsafe(16)


class Invitation(models.Model):
    """A participant's invitation to one wave and its link (``assessments.tokens``).

    The link is signed over ``nonce``; the nonce alone opens nothing, and revoking the
    invitation draws a new one. ``used_at`` and ``last_used_at`` are the first and the
    latest sign-in through the link.
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="invitations")
    dyad = models.ForeignKey(Dyad, on_delete=models.CASCADE, related_name="invitations")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="invitations"
    )
    nonce = models.CharField(max_length=32, default=invitation_nonce, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["wave", "dyad", "participant"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "dyad", "participant"], name="one_invitation_per_wave_dyad_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant} to {self.wave} ({self.dyad.research_code})"


class ResponseQuerySet(models.QuerySet):
    def submitted(self) -> ResponseQuerySet:
        return self.filter(status=Response.Status.SUBMITTED)


class Response(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="responses")
    dyad = models.ForeignKey(Dyad, on_delete=models.CASCADE, related_name="responses")
    respondent = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="responses")
    role = models.CharField(_("role"), max_length=8, choices=Role.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The instrument language the answers were given in (one of its ``languages``), set
    # by the survey services and the import; scoring never reads it.
    language = models.CharField(_("language"), max_length=12, default="en")

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["wave", "dyad", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "dyad", "role"],
                name="one_response_per_wave_dyad_role",
                violation_error_message=_("This partner already has a response for the wave."),
            ),
            models.CheckConstraint(
                condition=(Q(status="submitted") & Q(submitted_at__isnull=False))
                | (Q(status="draft") & Q(submitted_at__isnull=True)),
                name="submitted_response_has_time",
                violation_error_message=_("Exactly the submitted responses carry a time."),
            ),
        ]
        indexes = [models.Index(fields=["wave", "status"], name="response_wave_status")]
        # DESIGN §7: answers and identities are shown under a named permission, never
        # for ``is_staff`` alone.
        permissions = [("view_answers", "View any participant's survey and results read-only")]

    def __str__(self) -> str:
        return f"{self.dyad.research_code} {self.role} {self.wave}"

    def clean(self) -> None:
        if self.dyad_id and self.respondent_id and self.role:
            expected = self.dyad.mentor_id if self.role == Role.MENTOR else self.dyad.protege_id
            if expected != self.respondent_id:
                raise ValidationError(
                    {
                        "respondent": _("The respondent is not the %(role)s of this dyad.")
                        % {"role": self.get_role_display().lower()}
                    }
                )

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED


class Answer(models.Model):
    """One answer: a point of the battery's scale, or NULL for "not applicable".

    A database trigger (migration 0003) keeps values inside the item's scale and
    refuses NULL where the item does not allow "not applicable".
    """

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers")
    value = models.SmallIntegerField(_("value"), null=True, blank=True)
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["response", "item"]
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="one_answer_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item.code}={'NA' if self.value is None else self.value}"

    @property
    def is_not_applicable(self) -> bool:
        return self.value is None
