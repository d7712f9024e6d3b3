"""Instruments, survey waves, responses, answers and the stored continuum results."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relationships.models import Cohort, Dyad, Participant


class Role(models.TextChoices):
    MENTOR = "mentor", _("Mentor")
    PROTEGE = "protege", _("Protégé")


class InstrumentLocked(ValidationError):
    """Raised when a change would alter an instrument that already has responses."""


class WaveClosed(ValidationError):
    """The wave is not open, so answers cannot change and no invitation goes out."""


class Instrument(models.Model):
    """A versioned survey definition. Once anyone has answered it, it never changes."""

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    definition = models.JSONField(_("source definition"), default=dict, blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="instrument_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    def save(self, *args, **kwargs) -> None:
        self.ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.ensure_editable()
        return super().delete(*args, **kwargs)

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"

    def has_responses(self) -> bool:
        return self.pk is not None and Response.objects.filter(wave__instrument=self).exists()

    def ensure_editable(self) -> None:
        if self.has_responses():
            raise InstrumentLocked(
                _("%(label)s already has responses; load a new version instead of editing it.")
                % {"label": self.label}
            )


class InstrumentPart(models.Model):
    """Batteries, subscales and items share the instrument's lock."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.owning_instrument().ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.owning_instrument().ensure_editable()
        return super().delete(*args, **kwargs)

    def owning_instrument(self) -> Instrument:
        raise NotImplementedError


class Battery(InstrumentPart):
    class Code(models.TextChoices):
        REL = "REL", _("Relational functions")
        CAR = "CAR", _("Career functions")
        PSY = "PSY", _("Psychosocial functions")
        STR = "STR", _("Strain screen")
        OVR = "OVR", _("Overall")

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="batteries")
    code = models.CharField(_("code"), max_length=3, choices=Code.choices)
    title = models.CharField(_("title"), max_length=200)
    intro_mentor = models.TextField(_("introduction for mentors"), blank=True)
    intro_protege = models.TextField(_("introduction for protégés"), blank=True)
    scale_min = models.SmallIntegerField(_("lowest point"), default=1)
    scale_max = models.SmallIntegerField(_("highest point"), default=7)
    scale_labels = models.JSONField(_("point labels"), default=list)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["instrument", "order"]
        verbose_name_plural = "batteries"
        constraints = [
            models.UniqueConstraint(fields=["instrument", "code"], name="battery_code_unique"),
            models.CheckConstraint(
                condition=Q(scale_min__gte=0) & Q(scale_max__gt=models.F("scale_min")),
                name="battery_scale_sane",
                violation_error_message=_("A scale needs 0 ≤ lowest point < highest point."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def owning_instrument(self) -> Instrument:
        return self.instrument

    @property
    def points(self) -> list[tuple[int, str]]:
        values = range(self.scale_min, self.scale_max + 1)
        labels = list(self.scale_labels) + [""] * len(values)
        return [(value, labels[i] or str(value)) for i, value in enumerate(values)]


class Subscale(InstrumentPart):
    battery = models.ForeignKey(Battery, on_delete=models.CASCADE, related_name="subscales")
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["battery", "order"]
        constraints = [
            models.UniqueConstraint(fields=["battery", "code"], name="subscale_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def owning_instrument(self) -> Instrument:
        return self.battery.instrument


class Item(InstrumentPart):
    subscale = models.ForeignKey(Subscale, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=24)
    text_mentor = models.TextField(_("mentor wording"))
    text_protege = models.TextField(_("protégé wording"))
    reverse_keyed = models.BooleanField(_("reverse-keyed"), default=False)
    allow_na = models.BooleanField(_("allows 'not applicable'"), default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["subscale__battery__order", "order"]
        constraints = [
            models.UniqueConstraint(fields=["subscale", "code"], name="item_code_unique"),
        ]

    def __str__(self) -> str:
        return self.code

    def owning_instrument(self) -> Instrument:
        return self.subscale.battery.instrument

    def text_for(self, role: str) -> str:
        return self.text_mentor if role == Role.MENTOR else self.text_protege


class WaveQuerySet(models.QuerySet):
    def open_at(self, moment=None) -> WaveQuerySet:
        moment = moment or timezone.now()
        return self.filter(opens_at__lte=moment, closes_at__gt=moment)


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
        return self.label or f"Wave {self.number}"

    def is_open(self, moment=None) -> bool:
        moment = moment or timezone.now()
        return self.opens_at <= moment < self.closes_at


class Invitation(models.Model):
    """A participant's invitation to one wave; the magic-link token is stored hashed."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="invitations")
    dyad = models.ForeignKey(Dyad, on_delete=models.CASCADE, related_name="invitations")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
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


class DyadWaveResult(models.Model):
    """The stored continuum placement of one dyad at one wave (DESIGN §4).

    Score columns follow the export names: ``rel_mentor`` is ``REL_mentor`` and so on.
    Subscale scores of both partners are kept in ``subscales`` as
    ``{"mentor": {"REL-LG": 5.67, ...}, "protege": {...}}``.
    """

    class State(models.TextChoices):
        UNPLACED = "unplaced", _("Not yet placed")
        DYSFUNCTIONAL = "dysfunctional", _("Dysfunctional")
        TRADITIONAL = "traditional", _("Traditional")
        RELATIONAL = "relational", _("Relational")

    class Transition(models.TextChoices):
        FIRST = "first", _("First placement")
        UP = "up", _("Moved up")
        DOWN = "down", _("Moved down")
        SAME = "same", _("Same state")

    dyad = models.ForeignKey(Dyad, on_delete=models.CASCADE, related_name="results")
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="results")
    mentor_submitted = models.BooleanField(default=False)
    protege_submitted = models.BooleanField(default=False)

    rel_mentor = models.FloatField(null=True, blank=True)
    rel_protege = models.FloatField(null=True, blank=True)
    rel_dyad = models.FloatField(null=True, blank=True)
    rel_diff = models.FloatField(null=True, blank=True)
    car_mentor = models.FloatField(null=True, blank=True)
    car_protege = models.FloatField(null=True, blank=True)
    car_dyad = models.FloatField(null=True, blank=True)
    car_diff = models.FloatField(null=True, blank=True)
    psy_mentor = models.FloatField(null=True, blank=True)
    psy_protege = models.FloatField(null=True, blank=True)
    psy_dyad = models.FloatField(null=True, blank=True)
    psy_diff = models.FloatField(null=True, blank=True)
    str_mentor = models.FloatField(null=True, blank=True)
    str_protege = models.FloatField(null=True, blank=True)
    str_dyad = models.FloatField(null=True, blank=True)
    str_diff = models.FloatField(null=True, blank=True)
    ovr_mentor = models.FloatField(null=True, blank=True)
    ovr_protege = models.FloatField(null=True, blank=True)
    ovr_dyad = models.FloatField(null=True, blank=True)
    ovr_diff = models.FloatField(null=True, blank=True)
    kram_mentor = models.FloatField(null=True, blank=True)
    kram_protege = models.FloatField(null=True, blank=True)
    kram_dyad = models.FloatField(null=True, blank=True)
    kram_diff = models.FloatField(null=True, blank=True)
    subscales = models.JSONField(default=dict, blank=True)

    congruence = models.CharField(max_length=16, blank=True)
    cn_gap = models.FloatField(null=True, blank=True)
    position = models.FloatField(null=True, blank=True)
    state = models.CharField(max_length=14, choices=State.choices, default=State.UNPLACED)
    change = models.FloatField(null=True, blank=True)
    transition = models.CharField(max_length=6, choices=Transition.choices, blank=True)
    transition_reliable = models.BooleanField(default=False)

    awaiting_partner = models.BooleanField(default=False)
    marginal = models.BooleanField(default=False)
    borderline = models.BooleanField(default=False)
    strain_reported = models.BooleanField(default=False)
    norms_incongruent = models.BooleanField(default=False)
    reliable_decline = models.BooleanField(default=False)
    reliable_improvement = models.BooleanField(default=False)

    rule_version = models.CharField(max_length=40)
    constants = models.JSONField(default=dict)
    computed_at = models.DateTimeField(default=timezone.now)

    FLAG_FIELDS = (
        "awaiting_partner",
        "borderline",
        "marginal",
        "norms_incongruent",
        "reliable_decline",
        "reliable_improvement",
        "strain_reported",
    )

    class Meta:
        ordering = ["dyad", "wave__number"]
        constraints = [
            models.UniqueConstraint(fields=["dyad", "wave"], name="one_result_per_dyad_wave"),
        ]
        indexes = [models.Index(fields=["wave", "state"], name="result_wave_state")]

    def __str__(self) -> str:
        return f"{self.dyad.research_code} {self.wave}: {self.state}"

    @property
    def flags(self) -> list[str]:
        return [name for name in self.FLAG_FIELDS if getattr(self, name)]


class AlertFollowUp(models.Model):
    """A coordinator's record that an alert (DESIGN §4.4) was followed up.

    Alerts themselves are derived from the stored results and never stored; this row
    only takes one alert (dyad × wave × reason) off the open list, keeping who and when.
    """

    class Reason(models.TextChoices):
        DYSFUNCTIONAL = "dysfunctional", _("Dysfunctional placement")
        STRAIN_REPORTED = "strain_reported", _("Strain reported")
        RELIABLE_DECLINE = "reliable_decline", _("Reliable decline")
        DOWNWARD_TRANSITION = "downward_transition", _("Moved down the continuum")
        NORMS_INCONGRUENT = "norms_incongruent", _("Communal norms incongruent")
        PARTNER_MISSING = "partner_missing", _("Partner has not submitted")

    dyad = models.ForeignKey(Dyad, on_delete=models.CASCADE, related_name="alert_follow_ups")
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="alert_follow_ups")
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    note = models.TextField(_("note"))
    created_by = models.ForeignKey(
        "relationships.User",
        on_delete=models.SET_NULL,
        null=True,
        related_name="alert_follow_ups",
        verbose_name=_("followed up by"),
    )
    created_at = models.DateTimeField(_("followed up at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dyad", "wave", "reason"],
                name="one_follow_up_per_alert",
                violation_error_message=_("This alert has already been followed up."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dyad.research_code} {self.wave} {self.reason}"


class ExportLog(models.Model):
    """Audit trail of research exports: who, when, which cohort and file, how many rows."""

    user = models.ForeignKey("relationships.User", on_delete=models.SET_NULL, null=True, blank=True)
    cohort = models.ForeignKey(Cohort, on_delete=models.SET_NULL, null=True)
    cohort_path = models.CharField(max_length=130)
    format = models.CharField(max_length=12)
    rows = models.PositiveIntegerField(default=0)
    via = models.CharField(max_length=12, help_text=_("command or page"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("export_cohort", "Can export cohort research files")]

    def __str__(self) -> str:
        return f"{self.cohort_path} {self.format} by {self.user or 'command line'}"

    def save(self, *args, **kwargs) -> None:
        if self.cohort_id and not self.cohort_path:
            self.cohort_path = self.cohort.path
        super().save(*args, **kwargs)
