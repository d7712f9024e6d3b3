"""Stored continuum results, alert follow-ups and the export log (DESIGN §4, §6)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relationships.models import Cohort, Dyad

from ..measurement.rules import FLAGS
from .survey import Wave


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

    FLAG_FIELDS = FLAGS

    class Meta:
        ordering = ["dyad", "wave__number"]
        constraints = [
            models.UniqueConstraint(fields=["dyad", "wave"], name="one_result_per_dyad_wave"),
        ]
        indexes = [
            models.Index(fields=["wave", "state"], name="result_wave_state"),
            # Whether a cohort's results are current (``research.selectors.results_outdated``)
            # is answered from this index alone.
            models.Index(
                fields=["wave", "dyad", "computed_at", "rule_version"], name="result_current"
            ),
        ]
        permissions = [
            ("coordinate_all_programs", "Coordinate every program (dashboards and management)")
        ]

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
