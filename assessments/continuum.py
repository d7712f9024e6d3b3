"""Placement on the dysfunctional – traditional – relational continuum (DESIGN §4.2–4.4).

Pure pandas: frames in, frames out, nothing from Django. The pipeline is
``scoring.respondent_scores`` → ``dyad_values`` → ``place`` → ``changes`` (``compute``
runs all four) and ``alerts`` turns results into coordinator alerts. The worked example
of the whole rule lives in ``assessments.scoring``'s docstring and ``docs/scoring.md``.

Choices the design leaves open, made here:

- Cuts are compared with a tolerance of ``TOLERANCE`` (1e-9): a score within 1e-9 of a
  cut counts as *at* the cut. Scores are means of small integers, so genuinely
  different values differ by far more; without it, 16/3-style float rounding could
  move a dyad whose REL is exactly 5.5 below the relational cut.
- A missing score never meets a condition: a missing STR reports no strain, a missing
  REL subscale does not block ``relational``.
- ``marginal`` takes the lower of the KRAM scores that exist (one partner's when the
  other's is missing; never marginal when both are missing).
- ``awaiting_partner`` is raised only when exactly one partner submitted; a dyad whose
  partners both submitted but lack a valid REL or PSY is ``unplaced`` without a flag.
- ``norms_incongruent`` is raised whenever ``CN_gap`` exists, whatever the state.
- REL, CAR and PSY subscales are recognised by their codes' ``REL-``/``CAR-``/``PSY-``
  prefix (DESIGN §3 naming), so the dyad frame needs no item catalogue.
- ``borderline`` compares states only (not ``marginal``) and is never set on unplaced.
- ``partner_missing`` counts a dyad × wave where at least one partner (possibly both)
  has not submitted.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

RULE_VERSION = "continuum-v1"
BATTERIES = ("REL", "CAR", "PSY", "STR", "OVR")
SCORE_COLUMNS = (*BATTERIES, "KRAM")
ROLES = ("mentor", "protege")
STATES = ("unplaced", "dysfunctional", "traditional", "relational")
# Comparison order of placed states; "unplaced" has no rank.
STATE_ORDER: dict[str, int] = {"dysfunctional": 0, "traditional": 1, "relational": 2}
TRANSITIONS = ("first", "up", "down", "same")
CONGRUENCE = ("aligned", "protege_higher", "mentor_higher")
FLAGS = (
    "awaiting_partner",
    "borderline",
    "marginal",
    "norms_incongruent",
    "reliable_decline",
    "reliable_improvement",
    "strain_reported",
)
TOLERANCE = 1e-9
# Moved up by one SEM for "better quality" (STR is moved down); subscales by prefix.
HIGHER_IS_BETTER = ("REL", "CAR", "PSY", "KRAM")
LOWER_IS_BETTER = ("STR",)
SHIFTED_SUBSCALE_PREFIXES = ("REL-", "CAR-", "PSY-")
POSITION_MIN, POSITION_SPAN = 1.0, 6.0  # REL's 7-point scale mapped onto 0–100
ALERT_REASONS = (
    "dysfunctional",
    "strain_reported",
    "reliable_decline",
    "downward_transition",
    "norms_incongruent",
    "partner_missing",
)
# Plain strings because this module cannot import Django; views wrap them for translation.
ALERT_TEXT: dict[str, str] = {
    "dysfunctional": "The relationship is placed as dysfunctional and needs a conversation soon.",
    "strain_reported": "A partner reported frequent signs of strain in the relationship.",
    "reliable_decline": "Relationship quality dropped by more than measurement error "
    "since the last placed wave.",
    "downward_transition": "The relationship moved down the continuum since the last placed wave.",
    "norms_incongruent": "The partners see giving and keeping score in the relationship "
    "very differently.",
    "partner_missing": "A partner has not submitted the survey and the wave closes within "
    "a few days.",
}
_WHOLE_NUMBER_FIELDS = ("min_answered_floor", "max_missing_subscales", "alert_days_before_close")


@dataclass(frozen=True)
class Constants:
    """Every constant of rule ``continuum-v1`` (DESIGN §4); a program may override any.

    Scores are on the battery's own scale (REL/CAR/PSY/OVR 1–7, STR 1–5); ``sem`` and the
    reliable-change values are in REL points. Raises ``ValueError`` on values out of range.
    """

    min_answered_floor: int = 2
    min_answered_fraction: float = 2 / 3
    max_missing_subscales: int = 1
    aligned_threshold: float = 1.07
    cn_gap_threshold: float = 1.5
    strain_cut: float = 3.0
    dysfunctional_rel: float = 4.0
    dysfunctional_psy: float = 4.0
    relational_rel: float = 5.5
    relational_psy: float = 5.0
    relational_subscale_floor: float = 4.5
    marginal_kram: float = 4.5
    sem: float = 0.39
    reliable_change_dyad: float = 0.76
    reliable_change_respondent: float = 1.07
    alert_days_before_close: int = 3

    def __post_init__(self) -> None:
        values = self.as_dict()
        problems = [name for name, v in values.items() if not _is_number(v) or v < 0]
        problems += [name for name in _WHOLE_NUMBER_FIELDS if not _is_whole(values[name])]
        if _is_number(self.min_answered_fraction) and not 0 < self.min_answered_fraction <= 1:
            problems.append("min_answered_fraction")
        if problems:
            raise ValueError(
                "placement constants out of range: " + ", ".join(sorted(set(problems)))
            )

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None = None) -> Constants:
        """Defaults with ``overrides`` applied (e.g. a program's ``{"strain_cut": 2.5}``).

        Raises ``ValueError`` naming unknown keys, non-numeric or out-of-range values.
        """
        if overrides is None:
            return cls()
        if not isinstance(overrides, Mapping):
            raise ValueError("placement constants must be a mapping of name to number")
        unknown = sorted(set(overrides) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError("unknown placement constants: " + ", ".join(map(str, unknown)))
        bad = sorted(
            name
            for name, value in overrides.items()
            if not (_is_whole(value) if name in _WHOLE_NUMBER_FIELDS else _is_number(value))
        )
        if bad:
            shown = ", ".join(f"{name}={overrides[name]!r}" for name in bad)
            raise ValueError(
                "placement constants must be finite numbers (whole for counts): " + shown
            )
        defaults = cls()
        return cls(**{k: _like(getattr(defaults, k), v) for k, v in overrides.items()})

    def as_dict(self) -> dict[str, int | float]:
        """Every constant by name, as stored beside each result."""
        return asdict(self)

    def overrides(self) -> dict[str, int | float]:
        """Only the constants that differ from the defaults."""
        defaults = Constants()
        return {
            f.name: _like(getattr(defaults, f.name), getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)
        }

    @property
    def version_label(self) -> str:
        """``continuum-v1``, or ``continuum-v1+<8 hex>`` naming the overrides' hash."""
        overridden = self.overrides()
        if not overridden:
            return RULE_VERSION
        canonical = json.dumps(overridden, sort_keys=True, separators=(",", ":"))
        return f"{RULE_VERSION}+{hashlib.sha256(canonical.encode()).hexdigest()[:8]}"


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _is_whole(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _like(default: int | float, value: int | float) -> int | float:
    """``value`` in the default's type, so 2 and 2.0 give the same stored JSON."""
    if isinstance(default, int):
        if not _is_whole(value):
            raise ValueError(f"placement constant must be a whole number, got {value!r}")
        return int(value)
    return float(value)


def _at_least(x: pd.Series, cut: float) -> pd.Series:
    return x >= cut - TOLERANCE


def _below(x: pd.Series, cut: float) -> pd.Series:
    return x < cut - TOLERANCE


def _labels(
    conditions: Sequence[pd.Series], choices: Sequence[str | None], default: str, index: pd.Index
) -> pd.Series:
    """First matching choice per row, as an object Series (``None`` survives pandas 3)."""
    masks = [np.asarray(c, dtype=bool) for c in conditions]
    picked = np.select(masks, np.array(choices, dtype=object), default=default)
    return pd.Series(picked, index=index, dtype=object)


def state_rank(states: pd.Series) -> pd.Series:
    """``STATE_ORDER`` rank of each state; NaN for ``unplaced`` or missing."""
    return states.map(STATE_ORDER).astype(float)


# --- dyad values (§4.2) -----------------------------------------------------------------


def subscale_codes(frame: pd.DataFrame) -> list[str]:
    """Subscale codes present as ``<code>_mentor`` columns of a dyad frame, in order."""
    stems = [c.removesuffix("_mentor") for c in frame.columns if c.endswith("_mentor")]
    return [s for s in stems if s not in SCORE_COLUMNS]


def dyad_values(
    scores: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    constants: Constants | None = None,
) -> pd.DataFrame:
    """One row per dyad × wave from ``scoring.respondent_scores`` output.

    ``pairs`` (columns ``dyad, wave``) adds dyad × waves without any response. Index
    ``(dyad, wave)``, sorted. Columns: ``mentor_submitted, protege_submitted`` (bool);
    ``S_mentor, S_protege`` per subscale code S; ``X_mentor, X_protege, X_dyad, X_diff``
    for X in ``SCORE_COLUMNS`` (dyad = mean, diff = protégé − mentor, both only when both
    partners have X); ``congruence`` (``CONGRUENCE`` label or None); ``CN_gap``
    (|REL-CN protégé − mentor|); ``position`` (0–100 from REL_dyad). Raises
    ``ValueError`` on an unknown role or two responses for one dyad, wave and role.
    """
    c = constants or Constants()
    meta = {"dyad", "wave", "role", "response"}
    codes = [col for col in scores.columns if col not in meta and col not in SCORE_COLUMNS]
    wide, submitted = _by_role(scores, [*codes, *SCORE_COLUMNS], pairs)
    sides = wide[[f"{code}_{role}" for code in codes for role in ROLES]]
    levels = _levels(wide)
    return pd.concat([submitted, sides, levels], axis=1).assign(
        congruence=_congruence(levels["REL_diff"], c),
        CN_gap=_cn_gap(wide),
        position=100 * (levels["REL_dyad"] - POSITION_MIN) / POSITION_SPAN,
    )


def _by_role(
    scores: pd.DataFrame, columns: list[str], pairs: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores spread to ``<column>_<role>`` and submission booleans, on every dyad × wave."""
    unknown = set(scores["role"]) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(map(str, unknown))}")
    keyed = scores.set_index(["dyad", "wave", "role"])[columns].astype(float)
    if keyed.index.duplicated().any():
        raise ValueError("more than one response for one dyad, wave and role")
    wide = keyed.unstack("role").reindex(columns=pd.MultiIndex.from_product([columns, ROLES]))
    wide.columns = [f"{column}_{role}" for column, role in wide.columns]
    present = pd.Series(True, index=keyed.index).unstack("role", fill_value=False)
    present = present.reindex(columns=list(ROLES), fill_value=False)
    index = wide.index
    if pairs is not None and len(pairs):
        index = index.union(pd.MultiIndex.from_frame(pairs[["dyad", "wave"]].astype(int)))
    index = index.unique().sort_values().set_names(["dyad", "wave"])
    submitted = present.reindex(index, fill_value=False).astype(bool)
    submitted.columns = [f"{role}_submitted" for role in ROLES]
    return wide.reindex(index), submitted


def _levels(wide: pd.DataFrame) -> pd.DataFrame:
    columns: dict[str, pd.Series] = {}
    for score in SCORE_COLUMNS:
        mentor, protege = wide[f"{score}_mentor"], wide[f"{score}_protege"]
        columns[f"{score}_mentor"] = mentor
        columns[f"{score}_protege"] = protege
        columns[f"{score}_dyad"] = (mentor + protege) / 2
        columns[f"{score}_diff"] = protege - mentor
    return pd.DataFrame(columns, index=wide.index)


def _congruence(rel_diff: pd.Series, c: Constants) -> pd.Series:
    return _labels(
        [rel_diff.isna(), _below(rel_diff.abs(), c.aligned_threshold), rel_diff > 0],
        [None, "aligned", "protege_higher"],
        "mentor_higher",
        rel_diff.index,
    )


def _cn_gap(wide: pd.DataFrame) -> pd.Series:
    if "REL-CN_mentor" not in wide.columns:
        return pd.Series(np.nan, index=wide.index)
    return (wide["REL-CN_protege"] - wide["REL-CN_mentor"]).abs()


# --- placement (§4.3) --------------------------------------------------------------------


def place(values: pd.DataFrame, constants: Constants | None = None) -> pd.DataFrame:
    """``values`` (from ``dyad_values``) plus ``state`` (one of ``STATES``) and ``flags``.

    ``flags`` is a sorted tuple of ``awaiting_partner``, ``borderline``, ``marginal``,
    ``norms_incongruent`` and ``strain_reported`` per DESIGN §4.3; see the module
    docstring for the choices the design leaves open.
    """
    c = constants or Constants()
    state = _state(values, c)
    flags = pd.DataFrame(
        {
            "awaiting_partner": values["mentor_submitted"] ^ values["protege_submitted"],
            "borderline": _borderline(values, state, c),
            "marginal": (state == "traditional") & _below(_lower(values, "KRAM"), c.marginal_kram),
            "norms_incongruent": _at_least(values["CN_gap"], c.cn_gap_threshold),
            "strain_reported": _strain(values, c),
        },
        index=values.index,
    )
    return values.assign(state=state, flags=pack_flags(flags))


def _state(values: pd.DataFrame, c: Constants) -> pd.Series:
    """The §4.3 table, evaluated in order, for every row at once."""
    both = values["mentor_submitted"] & values["protege_submitted"]
    scored = values[[f"{x}_{r}" for x in ("REL", "PSY") for r in ROLES]].notna().all(axis=1)
    low = [
        _below(values[f"REL_{r}"], c.dysfunctional_rel)
        & _below(values[f"PSY_{r}"], c.dysfunctional_psy)
        for r in ROLES
    ]
    return _labels(
        [~(both & scored), _strain(values, c) | low[0] | low[1], _relational(values, c)],
        ["unplaced", "dysfunctional", "relational"],
        "traditional",
        values.index,
    )


def _strain(values: pd.DataFrame, c: Constants) -> pd.Series:
    """Either partner's STR at or above the strain cut (harm is one-sided)."""
    return _at_least(values["STR_mentor"], c.strain_cut) | _at_least(
        values["STR_protege"], c.strain_cut
    )


def _relational(values: pd.DataFrame, c: Constants) -> pd.Series:
    """Both partners high on REL and PSY, and no REL subscale of either below the floor."""
    high = [
        _at_least(values[f"REL_{r}"], c.relational_rel)
        & _at_least(values[f"PSY_{r}"], c.relational_psy)
        for r in ROLES
    ]
    rel_subscales = [
        f"{code}_{r}" for code in subscale_codes(values) if code.startswith("REL-") for r in ROLES
    ]
    low_subscale = _below(values[rel_subscales], c.relational_subscale_floor).any(axis=1)
    return high[0] & high[1] & ~low_subscale


def _lower(values: pd.DataFrame, score: str) -> pd.Series:
    return values[[f"{score}_mentor", f"{score}_protege"]].min(axis=1)


def _borderline(values: pd.DataFrame, state: pd.Series, c: Constants) -> pd.Series:
    better = _state(_shifted(values, c.sem), c)
    worse = _state(_shifted(values, -c.sem), c)
    return (state != "unplaced") & ((better != state) | (worse != state))


def _shifted(values: pd.DataFrame, delta: float) -> pd.DataFrame:
    """Every partner score moved ``delta`` towards better quality (STR the other way)."""
    moved: dict[str, pd.Series] = {}
    for column in values.columns:
        stem, _, role = column.rpartition("_")
        if role not in ROLES:
            continue
        if stem in HIGHER_IS_BETTER or stem.startswith(SHIFTED_SUBSCALE_PREFIXES):
            moved[column] = values[column] + delta
        elif stem in LOWER_IS_BETTER:
            moved[column] = values[column] - delta
    return values.assign(**moved)


def pack_flags(flags: pd.DataFrame) -> pd.Series:
    """Boolean flag columns → one sorted tuple of the true flags' names per row."""
    names = sorted(flags.columns)
    chosen = np.where(flags[names].to_numpy(dtype=bool), np.array(names, dtype=object), None)
    # Making one tuple per row is the only row-wise step; every rule above is vectorised.
    packed = [tuple(name for name in row if name) for row in chosen]
    return pd.Series(packed, index=flags.index, dtype=object)


def unpack_flags(flags: pd.Series) -> pd.DataFrame:
    """Tuples of flag names → one boolean column per flag (every name of ``FLAGS``)."""
    exploded = pd.Series(flags.to_numpy(), dtype=object).explode().dropna()
    table = pd.get_dummies(exploded.astype(str)).groupby(level=0).any()
    names = sorted({*FLAGS, *table.columns})
    table = table.reindex(index=range(len(flags)), columns=names, fill_value=False)
    return table.astype(bool).set_axis(flags.index)


# --- change between waves (§4.4) ---------------------------------------------------------


def changes(placed: pd.DataFrame, constants: Constants | None = None) -> pd.DataFrame:
    """``placed`` (indexed by dyad, wave) plus ``change``, ``transition``, ``transition_reliable``.

    Each placed wave is compared with the same dyad's previous *placed* wave (unplaced
    waves are skipped): ``change`` = REL_dyad now − then (NaN when unplaced or first);
    ``transition`` is ``first``/``up``/``down``/``same`` by ``STATE_ORDER`` (None when
    unplaced); ``transition_reliable`` when up or down with |change| ≥
    ``reliable_change_dyad``. Flags ``reliable_decline``/``reliable_improvement`` are
    merged into ``flags``. Rows come back sorted by dyad, wave.
    """
    c = constants or Constants()
    frame = placed.sort_index()
    is_placed = frame["state"] != "unplaced"
    previous = _previous_placed(frame, is_placed)
    change = (frame["REL_dyad"] - previous["REL_dyad"]).where(is_placed)
    now, before = state_rank(frame["state"]), state_rank(previous["state"])
    transition = _labels(
        [~is_placed, before.isna(), now > before, now < before],
        [None, "first", "up", "down"],
        "same",
        frame.index,
    )
    reliable = _at_least(change.abs(), c.reliable_change_dyad)
    return frame.assign(
        change=change,
        transition=transition,
        transition_reliable=transition.isin(["up", "down"]) & reliable,
        flags=_merged_flags(
            frame,
            reliable_decline=_at_least(-change, c.reliable_change_dyad),
            reliable_improvement=_at_least(change, c.reliable_change_dyad),
        ),
    )


def _previous_placed(frame: pd.DataFrame, is_placed: pd.Series) -> pd.DataFrame:
    """``REL_dyad`` and ``state`` of the same dyad's previous placed wave, per row."""
    placed = frame.loc[is_placed, ["REL_dyad", "state"]]
    return placed.groupby(level="dyad").shift(1).reindex(frame.index)


def _merged_flags(frame: pd.DataFrame, **flags: pd.Series) -> pd.Series:
    """``frame``'s ``flags`` tuples with the boolean ``flags`` merged in, still sorted."""
    old = unpack_flags(frame["flags"]) if "flags" in frame else pd.DataFrame(index=frame.index)
    return pack_flags(old.assign(**flags))


# --- one call and alerts -----------------------------------------------------------------


def compute(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    responses: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    constants: Constants | None = None,
) -> pd.DataFrame:
    """``respondent_scores`` → ``dyad_values`` → ``place`` → ``changes``, plus ``rule_version``.

    Inputs as in ``assessments.scoring``; the result is indexed by (dyad, wave).
    """
    # scoring imports Constants from here, so it is imported when needed, not at load.
    from . import scoring

    c = constants or Constants()
    scores = scoring.respondent_scores(answers, items, responses, c)
    results = changes(place(dyad_values(scores, pairs, c), c), c)
    return results.assign(rule_version=c.version_label)


def alerts(
    results: pd.DataFrame,
    closes_in_days: pd.Series | None = None,
    constants: Constants | None = None,
) -> pd.DataFrame:
    """Coordinator alerts (DESIGN §4.4) as a long frame ``dyad, wave, reason``.

    ``results`` is ``compute``/``changes`` output. ``closes_in_days`` maps a wave number
    to the days left until it closes; a dyad × wave missing a partner's submission gets
    ``partner_missing`` when 0 ≤ days ≤ ``alert_days_before_close``. Reasons are those of
    ``ALERT_REASONS`` (explained by ``ALERT_TEXT``), sorted by dyad, wave, reason order.
    """
    c = constants or Constants()
    flags = unpack_flags(results["flags"])
    both = results["mentor_submitted"] & results["protege_submitted"]
    closing = _days_left(results, closes_in_days).between(0, c.alert_days_before_close)
    reasons = pd.DataFrame(
        {
            "dysfunctional": results["state"] == "dysfunctional",
            "strain_reported": flags["strain_reported"],
            "reliable_decline": flags["reliable_decline"],
            "downward_transition": results["transition"] == "down",
            "norms_incongruent": flags["norms_incongruent"],
            "partner_missing": ~both & closing,
        },
        index=results.index,
    )
    return _true_cells(reasons)


def _days_left(results: pd.DataFrame, closes_in_days: pd.Series | None) -> pd.Series:
    """Days until each row's wave closes (NaN when unknown)."""
    if closes_in_days is None:
        return pd.Series(np.nan, index=results.index)
    waves = results.index.get_level_values("wave")
    return pd.Series(closes_in_days.reindex(waves).to_numpy(float), index=results.index)


def _true_cells(reasons: pd.DataFrame) -> pd.DataFrame:
    """Boolean reason columns → rows ``dyad, wave, reason``, in ``ALERT_REASONS`` order."""
    long = reasons.reset_index().melt(id_vars=["dyad", "wave"], var_name="reason")
    long = long[long["value"].astype(bool)].drop(columns="value")
    order = long["reason"].map({reason: i for i, reason in enumerate(ALERT_REASONS)})
    long = long.assign(_order=order).sort_values(["dyad", "wave", "_order"], kind="stable")
    return long.drop(columns="_order").reset_index(drop=True)
