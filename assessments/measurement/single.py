"""The whole rule for one dyad on plain Python values: what a submit scores (DESIGN §4).

``pipeline.score`` works on frames of any size, and each pandas step costs tens of
microseconds however few rows it has: one dyad's six waves took about 50 ms of CPU
that way, most of a submit. ``dyad_rows`` applies the same rules, with the same
floating-point operations in the same order (sums from left to right, one division),
to one dyad, in well under a millisecond, and returns exactly the rows of
``pipeline.score(...).dyads``. tests/measurement/test_single.py holds the two to the
same doubles on generated dyads and on the worked example.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .rules import (
    BATTERIES,
    FLAGS,
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    POSITION_MIN,
    POSITION_SPAN,
    ROLES,
    SCORE_COLUMNS,
    SHIFTED_SUBSCALE_PREFIXES,
    STATE_ORDER,
    TOLERANCE,
    Constants,
)
from .scoring import min_answered

NAN = math.nan
Scores = dict[str, float]


@dataclass(frozen=True)
class Item:
    """One catalogue item (``ITEMS_COLUMNS``), in catalogue order."""

    code: str
    battery: str
    subscale: str
    reverse_keyed: bool
    scale_min: float
    scale_max: float


@dataclass(frozen=True)
class Submitted:
    """One submitted response of the dyad and its answers by item code (None = n/a)."""

    wave: int
    role: str
    instrument: int
    answers: Mapping[str, float | None]


def dyad_rows(
    *,
    dyad: int,
    responses: Sequence[Submitted],
    items: Mapping[int, Sequence[Item]],
    waves: Sequence[int],
    constants: Constants,
) -> list[dict[str, Any]] | None:
    """The rows of ``pipeline.score(...).dyads.reset_index()`` for one dyad, by wave.

    ``items`` is each instrument's catalogue; ``waves`` are the wave numbers that need a
    row even without a response (``pairs``). Returns None when the answers are not what
    ``scoring.respondent_scores`` accepts (an item outside the catalogue, a value outside
    its scale, two responses of one role in a wave), for the caller to use the pipeline,
    which raises.
    """
    scored: dict[tuple[int, str], Scores] = {}
    codes: list[str] = []
    # As the pipeline: the catalogues answered, or every catalogue given when none is.
    for instrument in sorted({r.instrument for r in responses}) or sorted(items):
        catalogue = items[instrument]
        order = [c for c in _unique(i.subscale for i in catalogue) if c not in SCORE_COLUMNS]
        codes += [code for code in order if code not in codes]
        for response in (r for r in responses if r.instrument == instrument):
            scores = respondent(response.answers, catalogue, constants)
            if scores is None or (response.wave, response.role) in scored:
                return None
            scored[(response.wave, response.role)] = scores
    numbers = sorted({*waves, *(wave for wave, _role in scored)})
    rows = [_values(dyad, wave, scored, codes, constants) for wave in numbers]
    rows = [_placed(row, codes, constants) for row in rows]
    return _changes(rows, constants)


def _unique(values) -> list:
    return list(dict.fromkeys(values))


# --- §4.1 per respondent --------------------------------------------------------------------


def respondent(
    answers: Mapping[str, float | None], catalogue: Sequence[Item], constants: Constants
) -> Scores | None:
    """Subscale scores (every catalogue subscale) and ``SCORE_COLUMNS`` of one response,
    as ``scoring.respondent_scores`` computes them; None for answers it would refuse."""
    by_code = {item.code: item for item in catalogue}
    values: dict[str, list[float]] = {}
    for code, raw in answers.items():
        item = by_code.get(code)
        if item is None:
            return None
        value = NAN if raw is None else float(raw)
        if not math.isnan(value) and not item.scale_min <= value <= item.scale_max:
            return None
        if item.reverse_keyed:
            value = item.scale_min + item.scale_max - value
        values.setdefault(item.subscale, []).append(value)
    sizes: dict[str, int] = {}
    for item in catalogue:
        sizes[item.subscale] = sizes.get(item.subscale, 0) + 1
    needs = {k: min_answered(k, constants) for k in set(sizes.values())}
    scores = {code: _subscale(values.get(code, []), needs[k]) for code, k in sizes.items()}
    return {**scores, **_batteries(scores, catalogue, constants)}


def _subscale(values: list[float], need: int) -> float:
    answered = [v for v in values if not math.isnan(v)]
    if not answered or len(answered) < need:
        return NAN
    return _sum(answered) / len(answered)


def _sum(values: Sequence[float]) -> float:
    """Left to right, as pandas adds a row of a frame (and exactly, for whole numbers)."""
    total = 0.0
    for value in values:
        total += value
    return total


def _batteries(scores: Scores, catalogue: Sequence[Item], constants: Constants) -> Scores:
    battery_of = {item.subscale: item.battery for item in catalogue}
    found = dict.fromkeys(SCORE_COLUMNS, NAN)
    for battery in BATTERIES:
        block = [scores[code] for code, owner in battery_of.items() if owner == battery]
        valid = [v for v in block if not math.isnan(v)]
        if block and valid and len(block) - len(valid) <= constants.max_missing_subscales:
            found[battery] = _sum(valid) / len(valid)
    found["KRAM"] = (found["CAR"] + found["PSY"]) / 2
    return found


# --- §4.2 dyad values ---------------------------------------------------------------------


def _values(
    dyad: int, wave: int, scored: dict, codes: list[str], constants: Constants
) -> dict[str, Any]:
    sides = {role: scored.get((wave, role)) for role in ROLES}
    row: dict[str, Any] = {"dyad": dyad, "wave": wave}
    row.update({f"{role}_submitted": sides[role] is not None for role in ROLES})
    for code in codes:
        for role in ROLES:
            row[f"{code}_{role}"] = (sides[role] or {}).get(code, NAN)
    for score in SCORE_COLUMNS:
        mentor = (sides["mentor"] or {}).get(score, NAN)
        protege = (sides["protege"] or {}).get(score, NAN)
        row.update({f"{score}_mentor": mentor, f"{score}_protege": protege})
        row.update({f"{score}_dyad": (mentor + protege) / 2, f"{score}_diff": protege - mentor})
    diff = row["REL_diff"]
    row["congruence"] = (
        None
        if math.isnan(diff)
        else "aligned"
        if _below(abs(diff), constants.aligned_threshold)
        else "protege_higher"
        if diff > 0
        else "mentor_higher"
    )
    cn = "REL-CN" in codes
    row["CN_gap"] = abs(row["REL-CN_protege"] - row["REL-CN_mentor"]) if cn else NAN
    row["position"] = 100 * (row["REL_dyad"] - POSITION_MIN) / POSITION_SPAN
    return row


def _at_least(x: float, cut: float) -> bool:
    return x >= cut - TOLERANCE


def _below(x: float, cut: float) -> bool:
    return x < cut - TOLERANCE


# --- §4.3 placement -----------------------------------------------------------------------


def _placed(row: dict[str, Any], codes: list[str], constants: Constants) -> dict[str, Any]:
    state = _state(row, codes, constants)
    better = _state(_shifted(row, constants.sem), codes, constants)
    worse = _state(_shifted(row, -constants.sem), codes, constants)
    kram = [v for v in (row["KRAM_mentor"], row["KRAM_protege"]) if not math.isnan(v)]
    flags = {
        "awaiting_partner": row["mentor_submitted"] != row["protege_submitted"],
        "borderline": state != "unplaced" and (better != state or worse != state),
        "marginal": state == "traditional"
        and bool(kram)
        and _below(min(kram), constants.marginal_kram),
        "norms_incongruent": _at_least(row["CN_gap"], constants.cn_gap_threshold),
        "strain_reported": _strain(row, constants),
    }
    return {**row, "state": state, "flags": _packed(flags)}


def _state(row: dict[str, Any], codes: list[str], c: Constants) -> str:
    both = row["mentor_submitted"] and row["protege_submitted"]
    scored = all(not math.isnan(row[f"{x}_{r}"]) for x in ("REL", "PSY") for r in ROLES)
    if not (both and scored):
        return "unplaced"
    low = [
        _below(row[f"REL_{r}"], c.dysfunctional_rel)
        and _below(row[f"PSY_{r}"], c.dysfunctional_psy)
        for r in ROLES
    ]
    if _strain(row, c) or any(low):
        return "dysfunctional"
    high = all(
        _at_least(row[f"REL_{r}"], c.relational_rel)
        and _at_least(row[f"PSY_{r}"], c.relational_psy)
        for r in ROLES
    )
    rel = [f"{code}_{r}" for code in codes if code.startswith("REL-") for r in ROLES]
    if high and not any(_below(row[name], c.relational_subscale_floor) for name in rel):
        return "relational"
    return "traditional"


def _strain(row: dict[str, Any], c: Constants) -> bool:
    return _at_least(row["STR_mentor"], c.strain_cut) or _at_least(row["STR_protege"], c.strain_cut)


def _shifted(row: dict[str, Any], delta: float) -> dict[str, Any]:
    moved = dict(row)
    for column, value in row.items():
        stem, _, role = column.rpartition("_")
        if role not in ROLES:
            continue
        if stem in HIGHER_IS_BETTER or stem.startswith(SHIFTED_SUBSCALE_PREFIXES):
            moved[column] = value + delta
        elif stem in LOWER_IS_BETTER:
            moved[column] = value - delta
    return moved


def _packed(flags: Mapping[str, bool]) -> tuple[str, ...]:
    return tuple(name for name in sorted(flags) if flags[name])


# --- §4.4 change --------------------------------------------------------------------------


def _changes(rows: list[dict[str, Any]], c: Constants) -> list[dict[str, Any]]:
    """Change since the previous placed wave, transitions and the reliable-change flags."""
    version = c.version_label
    previous: dict[str, Any] | None = None
    for row in rows:
        placed = row["state"] != "unplaced"
        change = NAN
        transition = None
        if placed:
            change = row["REL_dyad"] - previous["REL_dyad"] if previous else NAN
            transition = _transition(row["state"], previous["state"] if previous else None)
            previous = row
        flags = {name: name in row["flags"] for name in FLAGS}
        flags["reliable_decline"] = _at_least(-change, c.reliable_change_dyad)
        flags["reliable_improvement"] = _at_least(change, c.reliable_change_dyad)
        row.update(
            change=change,
            transition=transition,
            transition_reliable=transition in ("up", "down")
            and _at_least(abs(change), c.reliable_change_dyad),
            flags=_packed(flags),
            rule_version=version,
        )
    return rows


def _transition(now: str, before: str | None) -> str:
    if before is None:
        return "first"
    if STATE_ORDER[now] > STATE_ORDER[before]:
        return "up"
    return "down" if STATE_ORDER[now] < STATE_ORDER[before] else "same"
