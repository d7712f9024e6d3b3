"""Change between waves and coordinator alerts (DESIGN §4.4). Pure pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .placement import _at_least, _labels, pack_flags, state_rank, unpack_flags
from .rules import ALERT_REASONS, Constants


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


def alerts(
    results: pd.DataFrame,
    closes_in_days: pd.Series | None = None,
    constants: Constants | None = None,
) -> pd.DataFrame:
    """Coordinator alerts (DESIGN §4.4) as a long frame ``dyad, wave, reason``.

    ``results`` is ``pipeline.score(...).dyads`` (or ``changes``) output.
    ``closes_in_days`` maps a wave number to the days left until it closes; a dyad × wave
    missing a partner's submission gets ``partner_missing`` when 0 ≤ days ≤
    ``alert_days_before_close``. Reasons are those of ``ALERT_REASONS`` (explained by
    ``ALERT_TEXT``), sorted by dyad, wave, reason order.
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


def respondent_change(
    now: pd.Series, before: pd.Series, constants: Constants | None = None
) -> pd.DataFrame:
    """One partner's own REL change (DESIGN §4.4, per respondent).

    ``now`` and ``before`` are that partner's REL scores aligned on one index. Returns
    ``change`` (now − before, NaN when either is missing) and ``reliable`` (|change| ≥
    ``reliable_change_respondent``, the Jacobson–Truax bound for one person's score).
    """
    c = constants or Constants()
    delta = now.astype(float) - before.astype(float)
    return pd.DataFrame(
        {"change": delta, "reliable": _at_least(delta.abs(), c.reliable_change_respondent)}
    )
