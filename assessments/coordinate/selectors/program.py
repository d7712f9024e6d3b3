"""The program page: one summary per cohort at its current wave, and the cohorts compared
wave by wave."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.core.cache import cache
from django.utils import timezone, translation

from relationships.models import Program

from .. import presenters
from . import summary
from .cohort import CHART_SECONDS, headline
from .history import WaveFigures, cohorts_by_wave
from .waves import cohort_waves, current_wave, opened

KINDS = ("state", "submitted", "open", "rel")


@dataclass(frozen=True)
class ProgramOverview:
    """``cohorts``: one summary per cohort (``cohort``, current ``wave``, active
    ``dyads``, the current wave's ``headline``); ``history``: the cohorts' figures at
    every opened wave, grouped by wave number (``history.cohorts_by_wave``); ``chart``:
    their mean REL wave by wave, None before any wave opened."""

    cohorts: list[dict[str, Any]]
    history: list[tuple[int, list[WaveFigures]]]
    chart: presenters.Chart | None


def program_overview(*, program: Program) -> ProgramOverview:
    """The program's cohorts now and over time, from their kept counts: a fixed number of
    queries whatever the cohorts, their waves and their sizes."""
    now = timezone.now()
    cohorts = list(program.cohorts.all())
    waves = cohort_waves(cohorts=cohorts)
    current = {c.pk: current_wave([w for w in waves if w.cohort_id == c.pk], now) for c in cohorts}
    live = {pk: w for pk, w in current.items() if w is not None and w.opens_at <= now}
    started = opened(waves, now)
    counts, shapes = summary.wave_counts(cohorts=cohorts, waves=waves, shown=started, kinds=KINDS)
    days = program.constants.alert_days_before_close
    closing = summary.closing_waves(live.values(), now, days)
    summaries = [
        {
            "cohort": cohort,
            "wave": current[cohort.pk],
            "dyads": shapes[cohort.pk][1],
            "headline": headline(counts, live.get(cohort.pk), closing),
        }
        for cohort in cohorts
    ]
    history = cohorts_by_wave(counts, cohorts, started)
    return ProgramOverview(cohorts=summaries, history=history, chart=history_chart(history))


def history_chart(history: list[tuple[int, list[WaveFigures]]]) -> presenters.Chart | None:
    """The figure of ``history``: one line per cohort, oldest cohort first.

    Kept in the cache under a digest of what it shows, as the cohort charts are
    (``cohort.cohort_charts``): it changes only when the counts do."""
    shown = [figures for _number, rows in history for figures in rows]
    if not shown:
        return None
    order = {cohort: index for index, cohort in enumerate(dict.fromkeys(f.cohort for f in shown))}
    rows = sorted(shown, key=lambda f: (order[f.cohort], f.wave.number))
    frame = pd.DataFrame(
        [(f.cohort.name, f.wave.number, f.mean_rel, f.rel_n) for f in rows],
        columns=["cohort", "wave", "mean_rel", "n"],
    )
    source = repr((frame.to_dict("split"), translation.get_language()))
    return cache.get_or_set(
        f"program-chart:{hashlib.sha256(source.encode()).hexdigest()}",
        lambda: presenters.history_chart(frame, presenters.chart_words()),
        CHART_SECONDS,
    )
