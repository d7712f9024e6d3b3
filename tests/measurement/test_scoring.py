"""Per-respondent scoring (DESIGN §4.1), psychometrics (§4.5) and the worked example (§4.6).

Expected numbers are computed by hand in the comments; nothing here imports Django.
"""

import math

import numpy as np
import pandas as pd
import pytest

from assessments.measurement.rules import SCORE_COLUMNS, Constants
from assessments.measurement.scoring import min_answered, pomp, respondent_scores
from tests.measurement.builders import NA, SKIP, frames, items_for, one, person, score

# --- reverse keying and the minimum number of answers -------------------------------------


@pytest.mark.parametrize(
    ("code", "raw", "expected"),
    [
        ("REL-CN", [5, 5, 2], (5 + 5 + 6) / 3),  # 7-point: 1 + 7 − 2 = 6
        ("REL-CN", [5, 5, 7], (5 + 5 + 1) / 3),  # 7 → 1
        ("REL-CN", [5, 5, 4], (5 + 5 + 4) / 3),  # the midpoint stays
        ("STR", [1, 1, 1, 1, 1, 2], (5 + 4) / 6),  # 5-point: 1 + 5 − 2 = 4
        ("STR", [1, 1, 1, 1, 1, 5], (5 + 1) / 6),  # 5 → 1
    ],
)
def test_reverse_keyed_items_are_recoded_on_their_own_scale(code, raw, expected):
    k = len(raw)
    items = items_for({code: k}, reverse=(f"{code}-{k}",))
    assert one(items, {code: raw})[code] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("k", "need"),
    [(1, 1), (2, 2), (3, 2), (4, 3), (5, 4), (6, 4), (7, 5), (9, 6), (12, 8)],
)
def test_a_subscale_needs_max_of_two_and_two_thirds_of_its_items(k, need):
    # max(2, ⌈2k/3⌉), capped at k so a one-item subscale can be scored.
    assert min_answered(k) == need


@pytest.mark.parametrize("fraction", [2 / 3, 0.5, 0.75, 0.1, 1.0, 0.3, 0.7])
@pytest.mark.parametrize("floor", [0, 1, 2, 5])
def test_one_subscale_needs_what_the_whole_catalogue_rule_gives(fraction, floor):
    # A submit scores one subscale at a time; a recompute takes every subscale at once.
    constants = Constants(min_answered_fraction=fraction, min_answered_floor=floor)
    sizes = pd.Series(range(1, 41), index=[f"S{k}" for k in range(1, 41)])
    together = min_answered(sizes, constants)
    assert [min_answered(k, constants) for k in sizes] == together.tolist()
    assert all(type(min_answered(k, constants)) is int for k in sizes)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([6, 4, 5], 5.0),
        ([6, 4, SKIP], 5.0),  # 2 of 3: valid
        ([6, SKIP, SKIP], None),  # 1 of 3: missing
        ([SKIP, SKIP, SKIP], None),
        ([6, 4, 5, 7], 5.5),
        ([6, 4, 5, SKIP], 5.0),  # 3 of 4 = ⌈8/3⌉: valid
        ([6, 4, SKIP, SKIP], None),  # 2 of 4: missing although ≥ the floor of 2
        ([6, 4, 5, 7, SKIP], 5.5),  # 4 of 5 = ⌈10/3⌉: valid
        ([6, 4, 5, SKIP, SKIP], None),  # 3 of 5: missing
        ([2, 2, 3, 5, SKIP, SKIP], 3.0),  # 4 of 6: valid
        ([2, 2, 3, SKIP, SKIP, SKIP], None),  # 3 of 6: missing
    ],
)
def test_subscale_score_is_the_mean_of_enough_answered_items(answers, expected):
    items = items_for({"REL-LG": len(answers)})
    result = one(items, {"REL-LG": answers})["REL-LG"]
    if expected is None:
        assert math.isnan(result)
    else:
        assert result == pytest.approx(expected)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([6, NA, 4], 5.0),
        ([6, SKIP, 4], 5.0),
        ([6, NA, SKIP], None),
        ([NA, NA, NA], None),
    ],
)
def test_not_applicable_and_skipped_are_both_missing_for_scoring(answers, expected):
    result = one(items_for({"REL-LG": 3}), {"REL-LG": answers})["REL-LG"]
    assert (math.isnan(result) and expected is None) or result == pytest.approx(expected)


def test_the_minimum_follows_overridden_constants():
    items = items_for({"REL-LG": 3})
    strict = Constants.from_overrides({"min_answered_floor": 3})
    lenient = Constants.from_overrides({"min_answered_floor": 1, "min_answered_fraction": 0.3})
    assert math.isnan(one(items, {"REL-LG": [6, 4, SKIP]}, constants=strict)["REL-LG"])
    assert one(items, {"REL-LG": [6, SKIP, SKIP]}, constants=lenient)["REL-LG"] == 6.0


# --- batteries and KRAM ------------------------------------------------------------------

REL3 = {"REL-LG": 3, "REL-IN": 3, "REL-AF": 3}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"REL-LG": [6, 6, 6], "REL-IN": [5, 5, 5], "REL-AF": [4, 4, 4]}, 5.0),
        ({"REL-LG": [6, 6, 6], "REL-IN": [5, 5, 5], "REL-AF": [4, SKIP, SKIP]}, 5.5),
        ({"REL-LG": [6, 6, 6], "REL-IN": [5, NA, SKIP], "REL-AF": [4, SKIP, SKIP]}, None),
        ({"REL-LG": [6, 6, 6]}, None),  # two subscales without any answer
    ],
)
def test_battery_tolerates_one_missing_subscale_but_not_two(answers, expected):
    result = one(items_for(REL3), answers)["REL"]
    assert (math.isnan(result) and expected is None) or result == pytest.approx(expected)


def test_no_missing_subscale_is_allowed_when_the_program_says_so():
    constants = Constants.from_overrides({"max_missing_subscales": 0})
    answers = {"REL-LG": [6, 6, 6], "REL-IN": [5, 5, 5], "REL-AF": [4, SKIP, SKIP]}
    assert math.isnan(one(items_for(REL3), answers, constants=constants)["REL"])


def test_single_subscale_batteries_are_the_mean_of_their_answered_items():
    items = items_for({"STR": 6, "OVR": 3})
    row = one(items, {"STR": [1, 2, 1, 3, SKIP, SKIP], "OVR": [7, NA, 6]})
    assert row["STR"] == pytest.approx(7 / 4)  # 4 of 6 answered
    assert row["OVR"] == pytest.approx(6.5)
    assert math.isnan(one(items, {"STR": [1, 2, 1, SKIP, SKIP, SKIP]})["STR"])  # 3 of 6


@pytest.mark.parametrize(
    ("psy", "expected"),
    [([6, 6, 6], (4.0 + 6.0) / 2), ([6, SKIP, SKIP], None)],
)
def test_kram_is_the_mean_of_car_and_psy_when_both_exist(psy, expected):
    items = items_for({"CAR-SP": 3, "PSY-RM": 3})
    row = one(items, {"CAR-SP": [4, 4, 4], "PSY-RM": psy})
    assert row["CAR"] == 4.0
    assert (math.isnan(row["KRAM"]) and expected is None) or row["KRAM"] == expected


def test_scores_have_one_row_per_response_and_the_documented_columns():
    items = items_for({"REL-LG": 3, "REL-IN": 3, "STR": 6, "OVR": 3})
    scores = score(
        items,
        person({"REL-LG": [6, 6, 6]}, response=7, role="mentor", dyad=3, wave=2),
        person({}, response=8, role="protege", dyad=3, wave=2),
    )
    assert scores.index.name == "response"
    assert list(scores.index) == [7, 8]
    assert list(scores.columns) == [
        "dyad",
        "wave",
        "role",
        "REL-LG",
        "REL-IN",
        *SCORE_COLUMNS,
    ]
    assert scores.loc[8, ["dyad", "wave", "role"]].tolist() == [3, 2, "protege"]
    assert scores.loc[8, "REL-LG":].isna().all()  # submitted with no answers: still a row


def test_scoring_is_independent_of_the_order_of_answer_rows():
    items = items_for(REL3, reverse=("REL-IN-2",))
    answers, responses = frames(
        person({"REL-LG": [6, 5, 4], "REL-IN": [3, 2, SKIP]}, response=1),
        person({"REL-LG": [2, NA, 4], "REL-AF": [7, 7, 7]}, response=2, role="protege"),
    )
    shuffled = answers.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(
        respondent_scores(answers, items, responses),
        respondent_scores(shuffled, items, responses),
    )


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"REL-XX": [5]}, "outside the catalogue"),
        ({"REL-LG": [8, 5, 5]}, "outside their scale"),
        ({"REL-LG": [0, 5, 5]}, "outside their scale"),
    ],
)
def test_answers_that_do_not_fit_the_catalogue_are_refused(answers, message):
    with pytest.raises(ValueError, match=message):
        one(items_for({"REL-LG": 3}), answers)


def test_two_answers_to_one_item_are_refused():
    answers, responses = frames(person({"REL-LG": [5, 5, 5]}))
    doubled = pd.concat([answers, answers.head(1)])
    with pytest.raises(ValueError, match="more than one answer"):
        respondent_scores(doubled, items_for({"REL-LG": 3}), responses)


# --- POMP --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "low", "high", "expected"),
    [(1, 1, 7, 0.0), (7, 1, 7, 100.0), (4, 1, 7, 50.0), (5.5, 1, 7, 75.0), (2, 1, 5, 25.0)],
)
def test_pomp_maps_a_scale_onto_0_to_100(x, low, high, expected):
    assert pomp(x, low, high) == pytest.approx(expected)


def test_pomp_works_on_series_and_refuses_an_empty_scale():
    result = pomp(pd.Series([1.0, 4.0, np.nan]), 1, 7)
    assert result.tolist()[:2] == [0.0, 50.0] and math.isnan(result.iloc[2])
    with pytest.raises(ValueError):
        pomp(3, 5, 5)
