"""Psychometrics (DESIGN §4.5) against hand-computed values."""

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from assessments.measurement.psychometrics import (
    PSYCHOMETRICS_COLUMNS,
    partner_agreement,
    psychometrics,
)
from assessments.measurement.rules import SCORE_COLUMNS
from tests.measurement.builders import NA, SKIP, frames, items_for, person

# --- psychometrics -----------------------------------------------------------------------

# Item 3 is reverse-keyed: raw 5 is recoded 3, so the recoded item 3 is [3, 5, 5, 7, 4].
PSYCHOMETRIC_MENTORS = [
    [2, 3, 5],  # recoded 2 3 3 → 8/3
    [4, 4, 3],  # 4 4 5 → 13/3
    [5, 6, 3],  # 5 6 5 → 16/3
    [6, 6, 1],  # 6 6 7 → 19/3
    [3, 2, 4],  # 3 2 4 → 3
    [5, 5, SKIP],  # → 5, not in α (listwise)
    [1, NA, 7],  # 1 · 1 → 1, not in α
]


def psychometric_frames():
    mentors = [
        person({"REL-LG": values}, response=i, dyad=i)
        for i, values in enumerate(PSYCHOMETRIC_MENTORS, start=1)
    ]
    proteges = [person({"REL-LG": [4, 4, 4]}, response=100 + i, role="protege") for i in (1, 2)]
    answers, responses = frames(*mentors, *proteges)
    return answers, items_for({"REL-LG": 3}, reverse=("REL-LG-3",)), responses


def test_psychometrics_hand_computed_for_one_group():
    table = psychometrics(*psychometric_frames())
    row = table[(table["role"] == "mentor")].iloc[0]
    scores = [8 / 3, 13 / 3, 16 / 3, 19 / 3, 3, 5, 1]
    # Item variances 2.5, 3.2, 2.2; total-score variance 21.5 over the 5 complete rows.
    alpha = 3 / 2 * (1 - (2.5 + 3.2 + 2.2) / 21.5)
    assert row["subscale"] == "REL-LG" and row["wave"] == 1
    assert row["n"] == 7
    assert row["mean"] == pytest.approx(83 / 21)
    assert row["sd"] == pytest.approx(statistics.stdev(scores))
    assert row["alpha"] == pytest.approx(alpha) == pytest.approx(0.948837, abs=1e-6)
    assert row["missing_share"] == pytest.approx(1 / 21)  # one skip of 7 × 3
    assert row["na_share"] == pytest.approx(1 / 21)
    assert not row["suppressed"]


def test_psychometrics_suppresses_groups_below_five_respondents():
    table = psychometrics(*psychometric_frames())
    assert list(table.columns) == PSYCHOMETRICS_COLUMNS
    small = table[table["role"] == "protege"].iloc[0]
    assert small["n"] == 2 and small["suppressed"]
    assert small[["mean", "sd", "alpha", "missing_share", "na_share"]].isna().all()
    everyone = psychometrics(*psychometric_frames(), min_group=2)
    assert not everyone["suppressed"].any()


# --- partner agreement -------------------------------------------------------------------


def test_partner_agreement_is_pearson_r_over_dyads_with_both_scores():
    mentor = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    protege = [2.0, 4.0, 5.0, 4.0, 5.0, np.nan]  # the sixth dyad does not count
    dyads = pd.DataFrame(
        {
            "dyad": range(1, 7),
            "wave": 1,
            **{f"{x}_{r}": np.nan for x in SCORE_COLUMNS for r in ("mentor", "protege")},
        }
    ).assign(REL_mentor=mentor, REL_protege=protege)
    table = partner_agreement(dyads.set_index(["dyad", "wave"]))
    rel = table[table["battery"] == "REL"].iloc[0]
    # deviations x: −2 −1 0 1 2, y: −2 0 1 0 1 → r = 6 / √(10 · 6)
    assert rel["n"] == 5
    assert rel["r"] == pytest.approx(6 / math.sqrt(60))
    assert not rel["suppressed"]
    car = table[table["battery"] == "CAR"].iloc[0]
    assert car["n"] == 0 and car["suppressed"] and math.isnan(car["r"])
    assert math.isnan(partner_agreement(dyads, min_group=6).iloc[0]["r"])
