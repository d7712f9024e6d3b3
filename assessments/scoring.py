"""Scoring of one instrument's submitted responses (DESIGN §4.1, §4.5).

Pure pandas: frames in, frames out, nothing from Django. ``respondent_scores`` turns
answers into subscale and battery scores per response; ``continuum.dyad_values``,
``place`` and ``changes`` take it from there. Rule ``continuum-v1`` in brief:

1. Reverse-keyed answers are recoded ``x' = min + max − x`` on their battery's scale;
   "not applicable" and skipped items are both missing.
2. Subscale = mean of the answered items when at least ``max(2, ⌈2k/3⌉)`` of its ``k``
   catalogue items are answered (2 of 3, 3 of 4, 4 of 5 or 6), else missing.
3. Battery = mean of its valid subscales when at most one is missing, else missing;
   STR and OVR are single subscales. ``KRAM`` = mean(CAR, PSY) when both exist.

Worked example (DESIGN §4.6; the same dyad in ``docs/scoring.md``, asserted by
``tests/test_scoring.py``). One dyad, wave 1, on the default instrument's layout:
REL has six subscales, CAR five and PSY four, of three items each on the 1–7 scale;
STR has six items on the 1–5 frequency scale; OVR three items on 1–7. REL-CN-3 is
reverse-keyed (``r``); ``na`` is "not applicable" and ``--`` a skipped item. Each side
lists the raw answers to items 1, 2, 3 (STR 1–6) and then the subscale score::

    subscale  mentor                    protégé
    REL-LG    6  6  5   5.6667          6  5  5   5.3333
    REL-IN    6  5  6   5.6667          5  5  6   5.3333
    REL-AF    6  6  6   6.0000          6  5  --  5.5000   skipped: 2 of 3 still valid
    REL-CN    5  6  2r  5.6667          5  5  3r  5.0000   2r → 1+7−2 = 6; 3r → 5
    REL-SI    6  5  5   5.3333          6  6  5   5.6667
    REL-TC    6  6  7   6.3333          5  6  5   5.3333
    CAR-SP    5  5  4   4.6667          5  4  4   4.3333
    CAR-EX    5  4  4   4.3333          4  4  5   4.3333
    CAR-CO    6  6  5   5.6667          6  5  6   5.6667
    CAR-PR    5  na 4   4.5000          5  5  4   4.6667   n/a: mean of the other two
    CAR-CH    6  5  5   5.3333          5  5  6   5.3333
    PSY-RM    6  6  5   5.6667          6  5  6   5.6667
    PSY-AC    6  7  6   6.3333          6  6  6   6.0000
    PSY-CS    5  6  5   5.3333          5  5  6   5.3333
    PSY-FR    6  5  6   5.6667          5  6  5   5.3333
    STR       1 1 2 1 1 1   1.1667      1 1 1 2 1 1   1.1667
    OVR       6  6  7   6.3333          6  6  6   6.0000

Batteries (every subscale is valid, so each battery is the plain mean of its subscales)::

    score  mentor                                        protégé
    REL    (5.6667+5.6667+6+5.6667+5.3333+6.3333)/6      (5.3333+5.3333+5.5+5+5.6667+5.3333)/6
           = 52/9 = 5.7778                               = 193/36 = 5.3611
    CAR    (4.6667+4.3333+5.6667+4.5+5.3333)/5 = 4.9000  (4.3333+4.3333+5.6667+4.6667+5.3333)/5
                                                         = 73/15 = 4.8667
    PSY    (5.6667+6.3333+5.3333+5.6667)/4 = 5.7500      (5.6667+6+5.3333+5.3333)/4 = 5.5833
    STR    7/6 = 1.1667                                  7/6 = 1.1667
    OVR    6.3333                                        6.0000
    KRAM   (4.9 + 5.75)/2 = 5.3250                       (4.8667 + 5.5833)/2 = 5.2250

Dyad values (``dyad`` = mean of the partners, ``diff`` = protégé − mentor)::

    REL_dyad = (5.7778 + 5.3611)/2 = 401/72 = 5.5694     REL_diff = -0.4167 → aligned (< 1.07)
    CAR_dyad = 4.8833  CAR_diff = -0.0333    PSY_dyad = 5.6667  PSY_diff = -0.1667
    STR_dyad = 1.1667  STR_diff = 0.0000     OVR_dyad = 6.1667  OVR_diff = -0.3333
    KRAM_dyad = 5.2750 KRAM_diff = -0.1000
    CN_gap = |5.0000 − 5.6667| = 0.6667 (< 1.5: norms congruent)
    position = 100·(5.5694 − 1)/6 = 76.16

Placement, in order: both partners have REL and PSY (placed); no STR ≥ 3.0 and nobody
has both REL and PSY < 4.0 (not dysfunctional); the mentor meets REL ≥ 5.5 and PSY ≥
5.0 but the protégé's REL 5.3611 < 5.5 (not relational, although no REL subscale is
below 4.5: the lowest is the protégé's REL-CN 5.0), so the state is **traditional**;
the lower KRAM 5.2250 ≥ 4.5, so not ``marginal``. Moved 0.39 towards better quality
the protégé's REL becomes 5.7511 ≥ 5.5 (PSY 5.9733, lowest REL subscale 5.39, STR
0.78) and the dyad would be relational; moved 0.39 towards worse it stays traditional
(REL 4.9711, PSY 5.1933). One of the two differs, so the flag is ``borderline``.
Result: state ``traditional``, flags ``("borderline",)``, position 76.16, congruence
``aligned``; as the dyad's first placed wave, transition ``first`` and change NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .continuum import BATTERIES, SCORE_COLUMNS, Constants

__all__ = [
    "ANSWERS_COLUMNS",
    "BATTERIES",
    "ITEMS_COLUMNS",
    "PSYCHOMETRICS_COLUMNS",
    "RESPONSES_COLUMNS",
    "SCORE_COLUMNS",
    "partner_agreement",
    "pomp",
    "psychometrics",
    "respondent_scores",
]

ITEMS_COLUMNS = ["item", "battery", "subscale", "reverse_keyed", "scale_min", "scale_max"]
ANSWERS_COLUMNS = ["response", "dyad", "wave", "role", "item", "value"]
RESPONSES_COLUMNS = ["response", "dyad", "wave", "role"]
PSYCHOMETRICS_COLUMNS = [
    "subscale",
    "role",
    "wave",
    "n",
    "mean",
    "sd",
    "alpha",
    "missing_share",
    "na_share",
    "suppressed",
]
AGREEMENT_COLUMNS = ["wave", "battery", "n", "r", "suppressed"]
MIN_GROUP = 5
# Guards ceil() against 2/3·6 landing a hair above 4 in floating point.
_CEIL_DIGITS = 9


# --- per respondent (§4.1) ---------------------------------------------------------------


def respondent_scores(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    responses: pd.DataFrame,
    constants: Constants | None = None,
) -> pd.DataFrame:
    """Subscale and battery scores of every submitted response.

    ``answers`` (``ANSWERS_COLUMNS``; ``value`` raw, NaN = "not applicable", no row =
    skipped), ``items`` (``ITEMS_COLUMNS``) and ``responses`` (``RESPONSES_COLUMNS``)
    describe one instrument. Returns a frame indexed by ``response`` with ``dyad, wave,
    role``, one column per subscale code (catalogue order), then ``SCORE_COLUMNS``, all
    on the battery's own scale (a single-subscale battery's subscale, coded like the
    battery, appears once, as the battery); a score that cannot be computed is NaN. Raises
    ``ValueError`` on answers to items outside the catalogue, to unlisted responses,
    duplicate answers or values outside the item's scale.
    """
    c = constants or Constants()
    catalogue = _catalogue(items)
    ids = _response_ids(responses)
    recoded = _recoded(answers, catalogue, ids)
    subscales = _subscale_scores(recoded, catalogue, ids, c)
    batteries = _battery_scores(subscales, catalogue, c)
    # A single-subscale battery's subscale carries the battery's code (STR, OVR): one column.
    subscales = subscales.drop(columns=[code for code in subscales if code in SCORE_COLUMNS])
    meta = responses.set_index("response")[["dyad", "wave", "role"]]
    return pd.concat([meta, subscales, batteries], axis=1)


def pomp(
    x: float | pd.Series, scale_min: float | pd.Series, scale_max: float | pd.Series
) -> float | pd.Series:
    """Percent of maximum possible: ``100·(x − min)/(max − min)``, scalars or Series."""
    if np.any(np.asarray(scale_max) <= np.asarray(scale_min)):
        raise ValueError("scale_max must be greater than scale_min")
    return 100 * (x - scale_min) / (scale_max - scale_min)


def min_answered(k: int | pd.Series, constants: Constants | None = None) -> int | pd.Series:
    """Answers needed for a valid subscale of ``k`` items: max(floor, ⌈fraction·k⌉), ≤ k.

    Capped at ``k`` so that a one-item subscale can be scored at all.
    """
    c = constants or Constants()
    share = np.round(c.min_answered_fraction * k, _CEIL_DIGITS)
    need = np.maximum(c.min_answered_floor, np.ceil(share))
    need = np.minimum(need, k)
    return need.astype(int) if isinstance(need, pd.Series) else int(need)


def _catalogue(items: pd.DataFrame) -> pd.DataFrame:
    """Items indexed by code; subscale order is the catalogue's."""
    missing = [column for column in ITEMS_COLUMNS if column not in items.columns]
    if missing:
        raise ValueError(f"items lack columns {missing}")
    catalogue = items[ITEMS_COLUMNS].set_index("item")
    if catalogue.index.duplicated().any():
        raise ValueError("items repeat an item code")
    return catalogue.astype({"reverse_keyed": bool, "scale_min": float, "scale_max": float})


def _response_ids(responses: pd.DataFrame) -> pd.Index:
    ids = pd.Index(responses["response"], name="response")
    if ids.duplicated().any():
        raise ValueError("responses repeat a response id")
    return ids


def _subscale_order(catalogue: pd.DataFrame) -> list[str]:
    return list(pd.unique(catalogue["subscale"]))


def _recoded(answers: pd.DataFrame, catalogue: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """Answers with ``subscale`` and reverse-keyed ``value`` (NaN kept for "n/a")."""
    frame = answers[["response", "item", "value"]].merge(
        catalogue, left_on="item", right_index=True, how="left"
    )
    _check_answers(frame, ids)
    value = frame["value"].astype(float)
    low, high = frame["scale_min"], frame["scale_max"]
    recoded = value.where(~frame["reverse_keyed"], low + high - value)
    return pd.DataFrame(
        {"response": frame["response"], "item": frame["item"], "subscale": frame["subscale"]}
    ).assign(value=recoded)


def _check_answers(frame: pd.DataFrame, ids: pd.Index) -> None:
    unknown = frame.loc[frame["subscale"].isna(), "item"].unique()
    if len(unknown):
        raise ValueError(f"answers to items outside the catalogue: {sorted(map(str, unknown))}")
    if not frame["response"].isin(ids).all():
        raise ValueError("answers belong to responses that are not listed")
    if frame.duplicated(["response", "item"]).any():
        raise ValueError("more than one answer for one response and item")
    value = frame["value"].astype(float)
    outside = value.notna() & ((value < frame["scale_min"]) | (value > frame["scale_max"]))
    if outside.any():
        raise ValueError(
            f"answers outside their scale for items {sorted(set(frame.item[outside]))}"
        )


def _subscale_scores(
    recoded: pd.DataFrame, catalogue: pd.DataFrame, ids: pd.Index, c: Constants
) -> pd.DataFrame:
    """Wide frame response × subscale: mean of answered items when enough are answered."""
    order = _subscale_order(catalogue)
    need = min_answered(catalogue.groupby("subscale").size(), c)
    stats = recoded.groupby(["response", "subscale"])["value"].agg(["mean", "count"])
    needed = need.reindex(stats.index.get_level_values("subscale")).to_numpy()
    valid = stats["mean"].where(stats["count"].to_numpy() >= needed)
    wide = valid.unstack("subscale") if len(valid) else pd.DataFrame(index=ids)
    return wide.reindex(index=ids, columns=order).astype(float)


def _battery_scores(subscales: pd.DataFrame, catalogue: pd.DataFrame, c: Constants) -> pd.DataFrame:
    """``SCORE_COLUMNS``: mean of valid subscales when at most ``max_missing`` are missing."""
    battery_of = catalogue.drop_duplicates("subscale").set_index("subscale")["battery"]
    scores = pd.DataFrame(np.nan, index=subscales.index, columns=list(SCORE_COLUMNS))
    for battery in BATTERIES:
        block = subscales[battery_of.index[battery_of == battery]]
        if block.shape[1]:
            enough = block.isna().sum(axis=1) <= c.max_missing_subscales
            scores[battery] = block.mean(axis=1).where(enough)
    scores["KRAM"] = (scores["CAR"] + scores["PSY"]) / 2
    return scores


# --- psychometrics (§4.5) ----------------------------------------------------------------


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
    on reverse-keyed values; ``missing_share`` skipped answers and ``na_share`` "not
    applicable" answers over respondents × k items. Groups with ``n < min_group`` keep
    their ``n`` but every other statistic is NaN and ``suppressed`` is True. Inputs as
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
        return pd.DataFrame(columns=["alpha"])
    return pd.concat(frames).set_index("subscale", append=True).reorder_levels([2, 0, 1])


def _alpha(block: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """α = k/(k−1)·(1 − Σ item variances / total variance) over fully answered rows."""
    complete = block[block.notna().all(axis=1)]
    keys = [groups.loc[complete.index, "role"], groups.loc[complete.index, "wave"]]
    k = block.shape[1]
    item_var = complete.groupby(keys).var().sum(axis=1)
    total_var = complete.sum(axis=1).groupby(keys).var()
    alpha = k / (k - 1) * (1 - item_var / total_var) if k > 1 else total_var * np.nan
    return alpha.where(total_var > 0).rename("alpha").to_frame()


def _suppress(frame: pd.DataFrame, statistics: list[str], min_group: int) -> pd.DataFrame:
    small = frame["n"] < min_group
    hidden = {name: frame[name].where(~small) for name in statistics}
    return frame.assign(**hidden, suppressed=small)


def partner_agreement(dyads: pd.DataFrame, min_group: int = MIN_GROUP) -> pd.DataFrame:
    """Pearson r of ``X_mentor`` vs ``X_protege`` per wave × score (``AGREEMENT_COLUMNS``).

    ``dyads`` is ``continuum.dyad_values`` output (index or columns ``dyad, wave``); only
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
