"""The cohort frame shaped for a figure and for the data table that is its text
alternative. Pure pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import STATES


def state_counts(frame: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """Dyads per wave and state: columns ``wave, label, state, n``, every state per wave.

    ``frame`` has one row per expected dyad × wave with ``wave`` and ``state``; ``waves``
    has ``wave, label`` in display order.
    """
    counted = frame.groupby(["wave", "state"]).size().rename("n").reset_index()
    return counted_states(counted, waves)


def counted_states(counted: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """``state_counts`` from dyads already counted: ``counted`` has ``wave, state, n``."""
    counts = counted.set_index(["wave", "state"])["n"]
    grid = pd.MultiIndex.from_product([waves["wave"], STATES], names=["wave", "state"])
    counts = counts.reindex(grid, fill_value=0).astype(int).rename("n").reset_index()
    return counts.merge(waves[["wave", "label"]], on="wave")[["wave", "label", "state", "n"]]


def transition_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Dyads moving between states of consecutive waves.

    ``frame`` has ``dyad, wave, state``. Returns ``wave_from, state_from, wave_to,
    state_to, n`` for each pair of consecutive wave numbers present, sorted.
    """
    columns = ["wave_from", "state_from", "wave_to", "state_to", "n"]
    waves = sorted(pd.unique(frame["wave"]))
    following = dict(zip(waves[:-1], waves[1:], strict=True))
    if not following:
        return pd.DataFrame(columns=columns)
    states = frame[["dyad", "wave", "state"]]
    now = states.rename(columns={"wave": "wave_from", "state": "state_from"})
    later = states.rename(columns={"wave": "wave_to", "state": "state_to"})
    now = now[now["wave_from"].isin(following)].assign(
        wave_to=lambda f: f["wave_from"].map(following)
    )
    pairs = now.merge(later, on=["dyad", "wave_to"])
    links = pairs.groupby(["wave_from", "state_from", "wave_to", "state_to"]).size()
    return links.rename("n").reset_index()[columns].sort_values(columns[:4], ignore_index=True)


def response_rates(frame: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """Submission shares per wave: ``wave, label, expected, mentors, proteges, rate,
    mentor_rate, protege_rate`` (rates in percent of expected dyads; NaN with none)."""
    sums = frame.groupby("wave").agg(
        expected=("dyad", "size"),
        mentors=("mentor_submitted", "sum"),
        proteges=("protege_submitted", "sum"),
    )
    return counted_rates(sums.reset_index(), waves)


def counted_rates(sums: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """``response_rates`` from submissions already counted: ``sums`` has ``wave,
    expected, mentors, proteges``."""
    sums = sums.set_index("wave")[["expected", "mentors", "proteges"]]
    sums = sums.reindex(waves["wave"], fill_value=0).astype(int)
    expected = sums["expected"].replace(0, np.nan)
    rates = sums.assign(
        rate=100 * (sums["mentors"] + sums["proteges"]) / (2 * expected),
        mentor_rate=100 * sums["mentors"] / expected,
        protege_rate=100 * sums["proteges"] / expected,
    ).reset_index()
    return waves[["wave", "label"]].merge(rates, on="wave")
