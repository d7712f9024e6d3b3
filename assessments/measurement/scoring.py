"""Per-respondent scores (DESIGN §4.1). Pure pandas: frames in, frames out.

``respondent_scores`` turns one instrument's answers into subscale and battery scores
per response. The rule in brief:

1. Reverse-keyed answers are recoded ``x' = min + max − x`` on their battery's scale;
   "not applicable" and skipped items are both missing.
2. Subscale = mean of the answered items when at least ``min(k, max(2, ⌈2k/3⌉))`` of
   its ``k`` catalogue items are answered (1 of 1, 2 of 2, 2 of 3, 3 of 4, 4 of 5 or 6),
   else missing.
3. Battery = mean of its valid subscales when at most one is missing, else missing;
   STR and OVR are single subscales. ``KRAM`` = mean(CAR, PSY) when both exist.

The worked example of the whole rule is in ``measurement.pipeline``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .rules import BATTERIES, ITEMS_COLUMNS, SCORE_COLUMNS, Constants

# Guards ceil() against 2/3·6 landing a hair above 4 in floating point.
_CEIL_DIGITS = 9


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
    if not isinstance(k, pd.Series):  # one subscale (a submit scores one dyad): no numpy
        need = math.ceil(round(c.min_answered_fraction * k, _CEIL_DIGITS))
        return int(min(max(c.min_answered_floor, need), k))
    share = np.round(c.min_answered_fraction * k, _CEIL_DIGITS)
    need = np.maximum(c.min_answered_floor, np.ceil(share))
    return np.minimum(need, k).astype(int)


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
