"""The program page: one summary per cohort at its current wave."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from relationships.models import Program

from . import summary
from .cohort import headline
from .waves import cohort_waves, current_wave


def program_overview(*, program: Program) -> list[dict[str, Any]]:
    """One summary per cohort: ``cohort``, current ``wave``, active ``dyads`` and the
    current wave's ``headline``, from the cohorts' kept counts (a fixed number of
    queries whatever the cohorts and their sizes)."""
    now = timezone.now()
    cohorts = list(program.cohorts.all())
    waves = cohort_waves(cohorts=cohorts)
    current = {c.pk: current_wave([w for w in waves if w.cohort_id == c.pk], now) for c in cohorts}
    live = {pk: w for pk, w in current.items() if w is not None and w.opens_at <= now}
    counts, shapes = summary.wave_counts(cohorts=cohorts, waves=waves, shown=list(live.values()))
    days = program.constants.alert_days_before_close
    closing = summary.closing_waves(live.values(), now, days)
    return [
        {
            "cohort": cohort,
            "wave": current[cohort.pk],
            "dyads": shapes[cohort.pk][1],
            "headline": headline(counts, live.get(cohort.pk), closing),
        }
        for cohort in cohorts
    ]
