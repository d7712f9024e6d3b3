"""Dyad values and placement on the continuum (DESIGN §4.2, §4.3).

Pure pandas. ``dyad_values`` spreads ``scoring.respondent_scores`` output to one row
per dyad × wave; ``place`` adds the state and flags. Choices the design leaves open,
made here:

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

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .rules import (
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
    partners have X); ``congruence`` (``aligned``, ``protege_higher``, ``mentor_higher``
    or None); ``CN_gap`` (|REL-CN protégé − mentor|); ``position`` (0–100 from REL_dyad). Raises
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
