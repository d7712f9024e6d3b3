"""What one dyad adds to its cohort's aggregates: counts per wave, and its open alerts.

Pure: plain values in, plain values out. A cohort's counts are the sum of
``dyad_counts`` over its dyads; when some dyads' results change, their new counts minus
their old ones are added (``results.aggregates``), so no page and no submit needs every
dyad again. The meaning of every count is that of the coordinator pages (DESIGN §4.4, §5):

- A dyad is *expected* at a wave when it is active or someone in it submitted there; a
  wave without a stored result counts as ``unplaced`` with nothing submitted.
- ``state:<state>``: expected dyads in that state; ``submitted:mentor``,
  ``submitted:protege``, ``submitted:both``: expected dyads whose mentor, protégé, or
  both submitted.
- ``open:<reason>``: alerts raised and not followed up (``partner_missing`` counts every
  expected dyad missing a partner; pages show it only while the wave closes within the
  program's alert days); ``followed:<reason>``: follow-ups.
- ``move:<later wave id>:<from>:<to>``, kept at the earlier wave: dyads expected at both
  waves, by their two states; every pair of waves, so that any waves can be charted.
- ``bin:<state>:<x>:<y>``: dyads where both partners have REL, by state and by each
  partner's REL in quarter points (``x`` mentor, ``y`` protégé); ``rel:<state>:x`` and
  ``rel:<state>:y`` count them and sum each side's REL; ``rel:xx``, ``rel:yy``,
  ``rel:xy`` sum the squares and products for Pearson r.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..measurement.rules import ALERT_REASONS

TIMED = "partner_missing"
RAISED_BY_RESULT = tuple(reason for reason in ALERT_REASONS if reason != TIMED)
RANK = {reason: rank for rank, reason in enumerate(ALERT_REASONS)}
BINS_PER_POINT = 4
KINDS = ("state", "submitted", "open", "followed", "move", "bin", "rel")

Key = tuple[int, str]  # (wave id, name)
Counts = dict[Key, list[float]]  # -> [n, total]


@dataclass(frozen=True)
class WaveFacts:
    id: int
    number: int
    closes_at: dt.datetime
    opens_at: dt.datetime | None = None


@dataclass(frozen=True)
class Cell:
    """The stored result of one dyad × wave, as far as the aggregates read it."""

    state: str = "unplaced"
    mentor: bool = False
    protege: bool = False
    transition: str = ""
    strain_reported: bool = False
    reliable_decline: bool = False
    norms_incongruent: bool = False
    rel_mentor: float | None = None
    rel_protege: float | None = None
    submitted_at: dt.datetime | None = None  # the later submission of the two


NO_RESULT = Cell()


@dataclass(frozen=True)
class DyadFacts:
    """A dyad, its stored results by wave id and its follow-ups as ``(wave id, reason)``."""

    id: int
    code: str
    active: bool
    cells: Mapping[int, Cell] = field(default_factory=dict)
    followed: frozenset[tuple[int, str]] = frozenset()

    def cell(self, wave: WaveFacts) -> Cell:
        return self.cells.get(wave.id, NO_RESULT)

    def expected(self, wave: WaveFacts) -> bool:
        cell = self.cell(wave)
        return self.active or cell.mentor or cell.protege


@dataclass(frozen=True)
class AlertRow:
    """An open alert of a dyad: its wave, reason and when it was raised."""

    dyad: int
    code: str
    wave: WaveFacts
    reason: str
    raised_at: dt.datetime | None

    @property
    def timed(self) -> bool:
        return self.reason == TIMED

    @property
    def rank(self) -> int:
        return RANK[self.reason]


def kind_of(name: str) -> str:
    return name.split(":", 1)[0]


def raised(cell: Cell) -> list[str]:
    """Reasons of the alerts a stored result raises by itself (not ``partner_missing``),
    as ``change.alerts`` raises them, in ``ALERT_REASONS`` order."""
    found = {
        "dysfunctional": cell.state == "dysfunctional",
        "strain_reported": cell.strain_reported,
        "reliable_decline": cell.reliable_decline,
        "downward_transition": cell.transition == "down",
        "norms_incongruent": cell.norms_incongruent,
    }
    return [reason for reason in RAISED_BY_RESULT if found[reason]]


def dyad_counts(dyad: DyadFacts, waves: Sequence[WaveFacts]) -> Counts:
    """Everything ``dyad`` adds to its cohort's counts at ``waves`` (in number order)."""
    counts: Counts = {}
    for wave in waves:
        for reason in {reason for wave_id, reason in dyad.followed if wave_id == wave.id}:
            _add(counts, wave.id, f"followed:{reason}")
        if dyad.expected(wave):
            _wave_counts(counts, dyad, wave)
    expected = [wave for wave in waves if dyad.expected(wave)]
    for earlier, later in itertools.combinations(expected, 2):
        states = f"{dyad.cell(earlier).state}:{dyad.cell(later).state}"
        _add(counts, earlier.id, f"move:{later.id}:{states}")
    return counts


def _wave_counts(counts: Counts, dyad: DyadFacts, wave: WaveFacts) -> None:
    cell = dyad.cell(wave)
    _add(counts, wave.id, f"state:{cell.state}")
    for side, done in (("mentor", cell.mentor), ("protege", cell.protege)):
        if done:
            _add(counts, wave.id, f"submitted:{side}")
    if cell.mentor and cell.protege:
        _add(counts, wave.id, "submitted:both")
    for reason in _open_reasons(dyad, wave):
        _add(counts, wave.id, f"open:{reason}")
    if cell.rel_mentor is not None and cell.rel_protege is not None:
        x, y = cell.rel_mentor, cell.rel_protege
        _add(counts, wave.id, f"bin:{cell.state}:{quarter(x)}:{quarter(y)}")
        _add(counts, wave.id, f"rel:{cell.state}:x", x)
        _add(counts, wave.id, f"rel:{cell.state}:y", y)
        for name, value in (("xx", x * x), ("yy", y * y), ("xy", x * y)):
            _add(counts, wave.id, f"rel:{name}", value)


def _open_reasons(dyad: DyadFacts, wave: WaveFacts) -> list[str]:
    cell = dyad.cell(wave)
    reasons = raised(cell)
    if not (cell.mentor and cell.protege):
        reasons.append(TIMED)
    return [reason for reason in reasons if (wave.id, reason) not in dyad.followed]


def quarter(value: float) -> int:
    """A REL score's bin: the nearest quarter point, halves up (floor(4x + 1/2)), a rule
    SQL computes identically (``rebuild``)."""
    return math.floor(value * BINS_PER_POINT + 0.5)


def _add(counts: Counts, wave_id: int, name: str, total: float = 0.0) -> None:
    cell = counts.setdefault((wave_id, name), [0, 0.0])
    cell[0] += 1
    cell[1] += total


def dyad_alerts(dyad: DyadFacts, waves: Sequence[WaveFacts], days_before: int) -> list[AlertRow]:
    """The dyad's open alerts at ``waves``: raised by a result, or a partner missing
    (raised ``days_before`` days before the wave closes), not followed up."""
    rows = []
    for wave in waves:
        if not dyad.expected(wave):
            continue
        for reason in _open_reasons(dyad, wave):
            moment = (
                wave.closes_at - dt.timedelta(days=days_before)
                if reason == TIMED
                else dyad.cell(wave).submitted_at
            )
            rows.append(AlertRow(dyad.id, dyad.code, wave, reason, moment))
    return rows


def total(counts: Iterable[Counts]) -> Counts:
    """The sum of several dyads' counts."""
    summed: Counts = {}
    for part in counts:
        for key, (n, value) in part.items():
            cell = summed.setdefault(key, [0, 0.0])
            cell[0] += n
            cell[1] += value
    return summed


def difference(new: Counts, old: Counts) -> Counts:
    """``new`` minus ``old``, leaving out what did not change."""
    changed: Counts = {}
    for key in new.keys() | old.keys():
        n_new, total_new = new.get(key, (0, 0.0))
        n_old, total_old = old.get(key, (0, 0.0))
        if n_new != n_old or total_new != total_old:
            changed[key] = [n_new - n_old, total_new - total_old]
    return changed
