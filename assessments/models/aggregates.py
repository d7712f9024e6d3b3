"""A cohort's precomputed aggregates: what every coordinator page needs, kept when
results change so that no page reads every dyad (DESIGN §8, §9).

``assessments.results.aggregates`` writes them (on every stored result, follow-up and
rebuild) and the coordinator selectors read them; nothing else does.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from relationships.models import Cohort, Dyad

from .results import AlertFollowUp
from .survey import Wave


class CohortSummary(models.Model):
    """One row per cohort: whether its counts and open alerts are built, and from what.

    ``fingerprint`` sums up what the aggregates depend on besides the stored results and
    the follow-ups (the cohort's waves, its dyads and who is active, the program's alert
    constants); empty means not built. ``follow_ups`` and ``last_follow_up`` (count and
    highest id) are those the aggregates counted. A page that finds either out of date
    rebuilds the aggregates once.
    Writers of results take this row ``FOR SHARE`` and a rebuild ``FOR UPDATE``, so a
    rebuild never misses a result written beside it while submits never wait for each
    other.
    """

    cohort = models.OneToOneField(
        Cohort, on_delete=models.CASCADE, primary_key=True, related_name="summary"
    )
    fingerprint = models.CharField(max_length=64, blank=True)
    follow_ups = models.PositiveIntegerField(default=0)
    last_follow_up = models.BigIntegerField(default=0)
    built_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "cohort summaries"

    def __str__(self) -> str:
        return f"{self.cohort_id}: {self.fingerprint or 'not built'}"


class CohortCount(models.Model):
    """One count of a cohort at a wave: ``n`` items and the sum ``total`` of a value.

    ``name`` says what is counted (``state:relational``, ``submitted:mentor``,
    ``open:dysfunctional``, ``move:<wave id>:<from>:<to>``, ``bin:<state>:<x>:<y>`` …;
    see ``results.tallies``) and ``kind`` is its first part, for pages that read one
    kind. A result written for a dyad adds its difference to the shard ``dyad id %
    SHARDS``, so submits of different dyads rarely touch the same row; pages sum the
    shards.
    """

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="+", db_index=False)
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=9)
    name = models.CharField(max_length=64)
    shard = models.PositiveSmallIntegerField(default=0)
    n = models.BigIntegerField(default=0)
    total = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "wave", "name", "shard"], name="one_count_per_shard"
            )
        ]
        indexes = [models.Index(fields=["cohort", "kind", "wave"], name="count_by_kind")]

    def __str__(self) -> str:
        return f"{self.cohort_id}/{self.wave_id} {self.name}: {self.n}"


class OpenAlert(models.Model):
    """An alert (DESIGN §4.4) raised for a dyad × wave and not followed up.

    ``partner_missing`` depends on the clock as well: it is stored (``timed``) for every
    expected dyad × wave where a partner has not submitted, with ``raised_at`` = the
    wave's close minus the program's alert days, and shown only while that moment has
    passed and the wave has not closed. ``raised_sort`` is ``raised_at`` or the epoch,
    so that the newest-first index puts alerts without a time last; ``code`` and
    ``wave_number`` are copied for the same index.
    """

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="+", db_index=False)
    dyad = models.ForeignKey(Dyad, on_delete=models.CASCADE, related_name="+")
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="+", db_index=False)
    reason = models.CharField(_("reason"), max_length=24, choices=AlertFollowUp.Reason.choices)
    timed = models.BooleanField(default=False)
    raised_at = models.DateTimeField(null=True, blank=True)
    raised_sort = models.DateTimeField()
    code = models.CharField(max_length=12)
    wave_number = models.PositiveSmallIntegerField()
    rank = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dyad", "wave", "reason"], name="one_open_alert")
        ]
        indexes = [
            models.Index(
                fields=["cohort", "timed", "-raised_sort", "code", "-wave_number", "rank"],
                name="open_alert_newest_first",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} wave {self.wave_number}: {self.reason}"
