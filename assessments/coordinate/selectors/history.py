"""A wave's figures from a cohort's kept counts, and the program's cohorts wave by wave.

What the program page compares and the cohort report prints: state shares, the mean
relational score and the response rate of each wave, read from the counts
``results.aggregates`` keeps (``summary.CohortCounts``), never from the dyads.
"""

from __future__ import annotations

from dataclasses import dataclass

from assessments.measurement import rules
from assessments.models import Wave
from relationships.models import Cohort

from .. import charts, presenters
from .summary import CohortCounts, counts_sum


@dataclass(frozen=True)
class WaveFigures:
    """One wave of one cohort: ``expected`` dyads, ``states`` as ``(state, label, n,
    percent of expected)``, ``rate`` (percent of expected partners who submitted),
    ``mean_rel`` (mean dyad REL, 1–7, over the ``rel_n`` dyads where both partners have
    one). Percentages and means are None when nothing counts."""

    cohort: Cohort
    wave: Wave
    expected: int
    states: list[tuple[str, str, int, float | None]]
    rate: float | None
    mean_rel: float | None
    rel_n: int

    @property
    def own_label(self) -> str:
        """The wave's label when the cohort gave it one other than "Wave N", else ""."""
        label = self.wave.label
        return label if label and label != f"Wave {self.wave.number}" else ""


def wave_figures(counts: CohortCounts, cohort: Cohort, wave: Wave) -> WaveFigures:
    """The figures of ``wave`` from ``counts`` (which must hold its state, submitted and
    rel counts)."""
    states = counts.states(wave)
    expected = sum(states.values())
    submitted = counts.n(wave, "submitted:mentor") + counts.n(wave, "submitted:protege")
    pairs = sum(counts.n(wave, f"rel:{state}:x") for state in rules.STATES)
    rel_sum = counts_sum(counts, wave, "x") + counts_sum(counts, wave, "y")
    return WaveFigures(
        cohort=cohort,
        wave=wave,
        expected=expected,
        states=[
            (s, str(presenters.STATE_LABELS[s]), states[s], _share(states[s], expected))
            for s in charts.STATES
        ],
        rate=_share(submitted, 2 * expected),
        mean_rel=rel_sum / (2 * pairs) if pairs else None,
        rel_n=pairs,
    )


def _share(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def cohorts_by_wave(
    counts: CohortCounts, cohorts: list[Cohort], waves: list[Wave]
) -> list[tuple[int, list[WaveFigures]]]:
    """The cohorts' figures grouped by wave number, in number order; within a number the
    cohorts oldest first. ``waves`` are the cohorts' opened waves."""
    order = sorted(cohorts, key=lambda c: (c.started_on, c.name))
    by_cohort = {c.pk: c for c in cohorts}
    numbers = sorted({w.number for w in waves})
    return [
        (
            number,
            [
                wave_figures(counts, by_cohort[w.cohort_id], w)
                for c in order
                for w in waves
                if w.cohort_id == c.pk and w.number == number
            ],
        )
        for number in numbers
    ]
