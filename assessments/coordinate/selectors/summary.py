"""A cohort's precomputed counts (``results.tallies``) as the coordinator pages read them.

Reading them costs a fixed number of queries and rows whatever the cohort's size: the
counts are kept when results change (``results.aggregates``); a page only checks that
they are current and sums the few rows it shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from django.db.models import Sum

from assessments.measurement import rules
from assessments.models import CohortCount, Wave
from assessments.results import aggregates, tallies
from relationships.models import Cohort

from .waves import closes_in_days

PAGE_KINDS = ("state", "submitted", "open", "move", "rel")
ALERT_KINDS = ("open", "followed")


@dataclass(frozen=True)
class CohortCounts:
    """Counts of one cohort by ``(wave id, name)``: ``(n, total)``; and how many
    ``dyads`` it has, ``active`` ones among them."""

    counts: dict[tuple[int, str], tuple[int, float]]
    dyads: int = 0
    active: int = 0

    def n(self, wave: Wave | None, name: str) -> int:
        return self.counts.get((wave.pk, name), (0, 0.0))[0] if wave else 0

    def total(self, wave: Wave | None, name: str) -> float:
        return self.counts.get((wave.pk, name), (0, 0.0))[1] if wave else 0.0

    def states(self, wave: Wave | None) -> dict[str, int]:
        return {state: self.n(wave, f"state:{state}") for state in rules.STATES}

    def expected(self, wave: Wave | None) -> int:
        return sum(self.states(wave).values())

    def names(self, wave: Wave, prefix: str) -> dict[str, tuple[int, float]]:
        """Counts at ``wave`` whose name starts with ``prefix``, by the rest of the name."""
        return {
            name.removeprefix(prefix): value
            for (wave_id, name), value in self.counts.items()
            if wave_id == wave.pk and name.startswith(prefix) and value[0]
        }

    def open_alerts(
        self, wave: Wave, *, closing: set[int], reasons: Iterable[str] = rules.ALERT_REASONS
    ) -> int:
        """Open alerts at ``wave`` for ``reasons``; a partner missing only counts while the
        wave is in ``closing`` (ids of the waves whose close is near)."""
        return sum(
            self.n(wave, f"open:{reason}")
            for reason in reasons
            if reason != tallies.TIMED or wave.pk in closing
        )


def cohort_counts(
    *,
    cohort: Cohort,
    waves: list[Wave],
    kinds: tuple[str, ...] = PAGE_KINDS,
    bins: Wave | None = None,
) -> CohortCounts:
    """The cohort's counts of ``kinds`` at every wave, plus the REL bins of ``bins``.

    ``waves`` are all of the cohort's waves; the aggregates are brought up to date
    first (``aggregates.ensure_current``: one query when they are). Two queries more.
    """
    dyads, active = aggregates.ensure_current(cohorts=[cohort], waves=waves)[cohort.pk]
    rows = _summed(CohortCount.objects.filter(cohort=cohort, kind__in=kinds))
    if bins is not None:
        rows += _summed(CohortCount.objects.filter(cohort=cohort, kind="bin", wave=bins))
    found = {(wave, name): (n, total) for wave, name, n, total in rows}
    return CohortCounts(found, dyads, active)


def wave_counts(
    *,
    cohorts: list[Cohort],
    waves: list[Wave],
    shown: list[Wave],
    kinds: tuple[str, ...] = ("state", "submitted", "open"),
) -> tuple:
    """Several cohorts' counts of ``kinds`` (states, submissions and open alerts unless
    told) at ``shown`` (their waves of interest), and each cohort's ``(dyads, active
    dyads)`` by id; ``waves`` are all of the cohorts' waves. Two queries when the
    aggregates are current."""
    shapes = aggregates.ensure_current(cohorts=cohorts, waves=waves)
    rows = _summed(CohortCount.objects.filter(wave__in=shown, kind__in=kinds))
    return CohortCounts({(wave, name): (n, total) for wave, name, n, total in rows}), shapes


def _summed(rows) -> list[tuple]:
    grouped = rows.order_by().values("wave_id", "name").annotate(sn=Sum("n"), st=Sum("total"))
    return [
        (wave, name, int(n), float(total or 0.0))
        for wave, name, n, total in grouped.values_list("wave_id", "name", "sn", "st")
    ]


def closing_waves(waves: Iterable[Wave], now: dt.datetime, days_before: int) -> set[int]:
    """Ids of the waves that close within ``days_before`` days from ``now``, as
    ``change.alerts`` reads ``closes_in_days``."""
    waves = list(waves)
    days = closes_in_days(waves, now)
    near = set(days.index[days.between(0, days_before)].tolist())
    return {w.pk for w in waves if w.number in near}


# --- the frames the chart builders take ---------------------------------------------------


def state_frame(counts: CohortCounts, waves: list[Wave]) -> pd.DataFrame:
    """``wave, state`` per expected dyad, as counts: ``wave, state, n`` rows."""
    rows = [(w.number, s, n) for w in waves for s, n in counts.states(w).items()]
    return pd.DataFrame(rows, columns=["wave", "state", "n"])


def response_sums(counts: CohortCounts, waves: list[Wave]) -> pd.DataFrame:
    """``wave, expected, mentors, proteges`` per wave."""
    rows = [
        (
            w.number,
            counts.expected(w),
            counts.n(w, "submitted:mentor"),
            counts.n(w, "submitted:protege"),
        )
        for w in waves
    ]
    return pd.DataFrame(rows, columns=["wave", "expected", "mentors", "proteges"])


def movement_frame(counts: CohortCounts, waves: list[Wave]) -> pd.DataFrame:
    """``wave_from, state_from, wave_to, state_to, n`` between consecutive waves with
    expected dyads, as ``charts.transition_counts`` makes it from every dyad."""
    columns = ["wave_from", "state_from", "wave_to", "state_to", "n"]
    present = sorted((w for w in waves if counts.expected(w)), key=lambda w: w.number)
    rows = []
    for earlier, later in zip(present, present[1:], strict=False):
        for pair, (n, _total) in counts.names(earlier, f"move:{later.pk}:").items():
            start, _, end = pair.partition(":")
            rows.append((earlier.number, start, later.number, end, n))
    return pd.DataFrame(rows, columns=columns).sort_values(columns[:4], ignore_index=True)


def agreement_points(counts: CohortCounts, wave: Wave | None) -> pd.DataFrame:
    """``state, rel_mentor, rel_protege, n``: dyads per state and quarter-point REL bin."""
    rows = []
    if wave is not None:
        for key, (n, _total) in counts.names(wave, "bin:").items():
            state, x, y = key.split(":")
            step = tallies.BINS_PER_POINT
            rows.append((state, int(x) / step, int(y) / step, n))
    return pd.DataFrame(rows, columns=["state", "rel_mentor", "rel_protege", "n"])


def agreement_by_state(counts: CohortCounts, wave: Wave | None) -> pd.DataFrame:
    """``state, n, rel_mentor, rel_protege``: dyads with both REL scores and the mean
    REL of each side, per state with any."""
    rows = []
    for state in rules.STATES:
        n = counts.n(wave, f"rel:{state}:x")
        if n:
            x, y = counts.total(wave, f"rel:{state}:x"), counts.total(wave, f"rel:{state}:y")
            rows.append((state, n, x / n, y / n))
    return pd.DataFrame(rows, columns=["state", "n", "rel_mentor", "rel_protege"])


def rel_agreement(counts: CohortCounts, wave: Wave | None) -> tuple[int, float | None]:
    """Pairs and Pearson r of the partners' REL at ``wave`` (None below ``MIN_GROUP``
    pairs or without variance), from the kept sums."""
    by_state = agreement_by_state(counts, wave)
    n = int(by_state["n"].sum())
    if n < rules.MIN_GROUP:
        return n, None
    sx = counts_sum(counts, wave, "x")
    sy = counts_sum(counts, wave, "y")
    sxx, syy, sxy = (counts.total(wave, f"rel:{name}") for name in ("xx", "yy", "xy"))
    vx, vy, cov = sxx - sx * sx / n, syy - sy * sy / n, sxy - sx * sy / n
    # The sums are kept by addition and subtraction: a spread within rounding is none.
    if vx <= 1e-9 * max(sxx, 1.0) or vy <= 1e-9 * max(syy, 1.0):
        return n, None
    return n, max(-1.0, min(1.0, cov / (vx * vy) ** 0.5))


def counts_sum(counts: CohortCounts, wave: Wave | None, side: str) -> float:
    return sum(counts.total(wave, f"rel:{state}:{side}") for state in rules.STATES)
