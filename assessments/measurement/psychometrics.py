"""Psychometrics shown to coordinators and admins (DESIGN §4.5). Pure pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .rules import MIN_GROUP, SCORE_COLUMNS, Constants
from .scoring import _catalogue, _recoded, _response_ids, _subscale_order, _subscale_scores

PSYCHOMETRICS_COLUMNS = [
    "subscale",
    "role",
    "wave",
    "n",
    "mean",
    "sd",
    "alpha",
    "alpha_n",
    "missing_share",
    "na_share",
    "suppressed",
]
AGREEMENT_COLUMNS = ["wave", "battery", "n", "r", "suppressed"]


def psychometrics(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    responses: pd.DataFrame,
    min_group: int = MIN_GROUP,
    constants: Constants | None = None,
) -> pd.DataFrame:
    """Per subscale × role × wave: ``PSYCHOMETRICS_COLUMNS``.

    ``n`` respondents with a valid subscale score; ``mean``/``sd`` (n − 1) of those
    scores; ``alpha`` Cronbach's α over respondents who answered every item (listwise),
    on reverse-keyed values, and ``alpha_n`` the number of those complete cases;
    ``missing_share`` skipped answers and ``na_share`` "not applicable" answers over
    respondents × k items. Groups with ``n < min_group`` keep their ``n`` but every other
    statistic is NaN and ``suppressed`` is True; ``alpha`` alone is NaN when fewer than
    ``min_group`` cases are complete, however large ``n`` is. Inputs as
    in ``respondent_scores``; groups are every subscale × (role, wave) with a response.
    """
    c = constants or Constants()
    catalogue = _catalogue(items)
    ids = _response_ids(responses)
    recoded = _recoded(answers, catalogue, ids)
    groups = responses.set_index("response")[["role", "wave"]]
    scores = _subscale_scores(recoded, catalogue, ids, c)
    long = scores.melt(ignore_index=False, var_name="subscale", value_name="score").join(groups)
    stats = long.groupby(["subscale", "role", "wave"])["score"].agg(
        n="count", mean="mean", sd="std"
    )
    stats = stats.join(_shares(recoded, catalogue, groups)).join(
        _alphas(recoded, catalogue, groups)
    )
    order = {code: i for i, code in enumerate(_subscale_order(catalogue))}
    stats = stats.reset_index().sort_values(
        ["subscale", "role", "wave"], key=lambda s: s.map(order) if s.name == "subscale" else s
    )
    stats["alpha_n"] = stats["alpha_n"].fillna(0).astype(int)
    stats["alpha"] = stats["alpha"].where(stats["alpha_n"] >= min_group)
    return _suppress(stats, ["mean", "sd", "alpha", "missing_share", "na_share"], min_group)[
        PSYCHOMETRICS_COLUMNS
    ].reset_index(drop=True)


def _shares(recoded: pd.DataFrame, catalogue: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Skipped and "not applicable" shares per subscale × role × wave."""
    k = catalogue.groupby("subscale").size().rename("k")
    respondents = groups.groupby(["role", "wave"]).size().rename("respondents")
    expected = (
        k.reset_index()
        .merge(respondents.reset_index(), how="cross")
        .set_index(["subscale", "role", "wave"])
    )
    rows = recoded.join(groups, on="response").assign(na=lambda f: f["value"].isna())
    counts = rows.groupby(["subscale", "role", "wave"])["na"].agg(stored="size", na="sum")
    counts = counts.reindex(expected.index, fill_value=0)
    possible = expected["k"] * expected["respondents"]
    return pd.DataFrame(
        {
            "missing_share": (possible - counts["stored"]) / possible,
            "na_share": counts["na"] / possible,
        }
    )


def _alphas(recoded: pd.DataFrame, catalogue: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Cronbach's α per subscale × role × wave, listwise on reverse-keyed values."""
    wide = recoded.pivot(index="response", columns="item", values="value")
    wide = wide.reindex(index=groups.index, columns=catalogue.index)
    frames = [
        _alpha(wide[list(members)], groups).assign(subscale=code)
        for code, members in catalogue.groupby("subscale").groups.items()
    ]
    if not frames:
        return pd.DataFrame(columns=["alpha", "alpha_n"])
    return pd.concat(frames).set_index("subscale", append=True).reorder_levels([2, 0, 1])


def _alpha(block: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """α = k/(k−1)·(1 − Σ item variances / total variance) over fully answered rows."""
    complete = block[block.notna().all(axis=1)]
    keys = [groups.loc[complete.index, "role"], groups.loc[complete.index, "wave"]]
    k = block.shape[1]
    item_var = complete.groupby(keys).var().sum(axis=1)
    total_var = complete.sum(axis=1).groupby(keys).var()
    alpha = k / (k - 1) * (1 - item_var / total_var) if k > 1 else total_var * np.nan
    cases = complete.groupby(keys).size()
    return pd.DataFrame({"alpha": alpha.where(total_var > 0), "alpha_n": cases})


def _suppress(frame: pd.DataFrame, statistics: list[str], min_group: int) -> pd.DataFrame:
    small = frame["n"] < min_group
    hidden = {name: frame[name].where(~small) for name in statistics}
    return frame.assign(**hidden, suppressed=small)


def partner_agreement(dyads: pd.DataFrame, min_group: int = MIN_GROUP) -> pd.DataFrame:
    """Pearson r of ``X_mentor`` vs ``X_protege`` per wave × score (``AGREEMENT_COLUMNS``).

    ``dyads`` is ``placement.dyad_values`` output (index or columns ``dyad, wave``); only
    dyads where both partners have X count towards ``n``. Below ``min_group`` pairs, ``r``
    is NaN and ``suppressed`` True. ``battery`` runs over ``SCORE_COLUMNS``.
    """
    frame = dyads if "wave" in dyads.columns else dyads.reset_index()
    waves = pd.Index(sorted(pd.unique(frame["wave"])), name="wave")
    parts = []
    for battery in SCORE_COLUMNS:
        pair = frame[["wave", f"{battery}_mentor", f"{battery}_protege"]].dropna()
        n = pair.groupby("wave").size().reindex(waves, fill_value=0)
        r = _pearson(pair[f"{battery}_mentor"], pair[f"{battery}_protege"], pair["wave"])
        parts.append(pd.DataFrame({"battery": battery, "n": n, "r": r.reindex(waves)}))
    result = pd.concat(parts).reset_index()
    return _suppress(result, ["r"], min_group)[AGREEMENT_COLUMNS].reset_index(drop=True)


def _pearson(x: pd.Series, y: pd.Series, keys: pd.Series) -> pd.Series:
    """Pearson r of ``x`` and ``y`` per group; NaN when either has no variance."""
    dx = x - x.groupby(keys).transform("mean")
    dy = y - y.groupby(keys).transform("mean")
    sums = pd.DataFrame({"xy": dx * dy, "xx": dx * dx, "yy": dy * dy}).groupby(keys).sum()
    spread = np.sqrt(sums["xx"] * sums["yy"])
    return (sums["xy"] / spread).where(spread > 0).clip(-1, 1)
