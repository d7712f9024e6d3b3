"""The printable cohort report: the dashboard's figures as tables on one page.

Everything comes from what the dashboard reads: the kept counts (``summary``), its
headline (``cohort.headline``) and the data tables of its charts (``cohort_charts``,
cached under the same key), plus each wave's figures (``history.wave_figures``) and open
alerts by reason. A fixed number of queries whatever the cohort's size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.measurement import rules
from assessments.models import Wave
from relationships.models import Cohort

from .. import presenters
from . import summary
from .cohort import Headline, cohort_charts, headline
from .history import WaveFigures, wave_figures
from .waves import chosen_wave, cohort_waves, opened


@dataclass(frozen=True)
class CohortReport:
    """``wave``: the wave the headline describes (None before any opened); ``dyads`` and
    ``active``: the cohort's dyads; ``figures``: each opened wave's; ``rates``,
    ``movement`` and ``agreement``: the data tables of the dashboard's charts of
    response rates, movement between waves and partner agreement at ``wave``;
    ``alerts``: open alerts by reason and wave."""

    cohort: Cohort
    wave: Wave | None
    made_at: dt.datetime
    dyads: int
    active: int
    headline: Headline
    figures: list[WaveFigures]
    rates: presenters.Table
    movement: presenters.Table
    agreement: presenters.Table
    alerts: presenters.Table


def cohort_report(*, cohort: Cohort, wave_number: int | None = None) -> CohortReport:
    """The report at the wave numbered ``wave_number`` (default: the current wave)."""
    now = timezone.now()
    waves = cohort_waves(cohorts=[cohort])
    started = opened(waves, now)
    chosen = chosen_wave(waves, wave_number, now)
    current = chosen if chosen in started else None
    counts = summary.cohort_counts(cohort=cohort, waves=waves, bins=current)
    days = cohort.program.constants.alert_days_before_close
    closing = summary.closing_waves(started, now, days)
    tables = {chart.id: chart.table for chart in cohort_charts(counts, started, current, chosen)}
    return CohortReport(
        cohort=cohort,
        wave=current,
        made_at=now,
        dyads=counts.dyads,
        active=counts.active,
        headline=headline(counts, current, closing),
        figures=[wave_figures(counts, cohort, wave) for wave in started],
        rates=tables["chart-rates"],
        movement=tables["chart-transitions"],
        agreement=tables["chart-agreement"],
        alerts=alerts_table(counts, started, closing),
    )


def alerts_table(
    counts: summary.CohortCounts, waves: list[Wave], closing: set[int]
) -> presenters.Table:
    """Open alerts per reason (rows) and wave (columns), with a total row; a partner
    missing counts only while its wave closes soon, as on the dashboard."""
    rows = [
        [
            str(presenters.REASON_LABELS[reason]),
            *[counts.open_alerts(w, closing=closing, reasons=[reason]) for w in waves],
        ]
        for reason in rules.ALERT_REASONS
    ]
    total = [sum(row[i + 1] for row in rows) for i in range(len(waves))]
    caption = _("Open alerts by reason and wave")
    note = _("All reasons")
    headers = [_("Reason"), *[str(w) for w in waves]]
    return presenters.Table(caption, headers, [*rows, [note, *total]])
