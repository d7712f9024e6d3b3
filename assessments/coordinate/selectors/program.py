"""The program page: one summary per cohort at its current wave."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from relationships.models import Program

from .alerts import alerts_frame, follow_ups_frame, split_alerts
from .cohort import headline
from .frames import ALERTING, dyads_frame, results_frame
from .waves import cohort_waves, current_wave


def program_overview(*, program: Program) -> list[dict[str, Any]]:
    """One summary per cohort: ``cohort``, current ``wave``, active ``dyads`` and the
    current wave's ``headline`` (a fixed number of queries whatever the cohorts)."""
    now = timezone.now()
    cohorts = list(program.cohorts.all())
    waves = cohort_waves(cohorts=cohorts)
    current = {c.pk: current_wave([w for w in waves if w.cohort_id == c.pk], now) for c in cohorts}
    live = [w for w in current.values() if w is not None and w.opens_at <= now]
    dyads = dyads_frame(cohorts=cohorts)
    frame = results_frame(dyads=dyads, waves=live, fields=ALERTING)
    follow_ups = follow_ups_frame(cohorts=cohorts)
    summaries = []
    for cohort in cohorts:
        wave = current[cohort.pk] if current[cohort.pk] in live else None
        mine = frame[frame["cohort"] == cohort.pk]
        found = alerts_frame(
            mine, waves=[wave] if wave else [], constants=program.constants, now=now
        )
        summaries.append(
            {
                "cohort": cohort,
                "wave": current[cohort.pk],
                "dyads": int(dyads.loc[dyads["cohort"] == cohort.pk, "is_active"].sum()),
                "headline": headline(mine, split_alerts(found, follow_ups), wave),
            }
        )
    return summaries
