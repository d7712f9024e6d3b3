"""Per-respondent scoring (DESIGN §4.1), psychometrics (§4.5) and the worked example (§4.6).

Expected numbers are computed by hand in the comments; nothing here imports Django.
"""

import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessments import continuum, scoring
from assessments.continuum import Constants
from assessments.scoring import (
    ANSWERS_COLUMNS,
    ITEMS_COLUMNS,
    RESPONSES_COLUMNS,
    min_answered,
    partner_agreement,
    pomp,
    psychometrics,
    respondent_scores,
)

NA = "na"  # "not applicable" was chosen: a row with a NaN value
SKIP = "--"  # no row at all
SCALES = {"STR": (1, 5)}  # every other battery answers on 1–7
DOCS = Path(__file__).resolve().parent.parent / "docs" / "scoring.md"


# --- builders ----------------------------------------------------------------------------


def items_for(sizes: dict[str, int], reverse: tuple[str, ...] = ()) -> pd.DataFrame:
    """Catalogue from ``{subscale code: number of items}``; battery = the code's prefix."""
    rows = []
    for code, k in sizes.items():
        battery = code.split("-")[0]
        low, high = SCALES.get(battery, (1, 7))
        for number in range(1, k + 1):
            item = f"{code}-{number}"
            rows.append((item, battery, code, item in reverse, low, high))
    return pd.DataFrame(rows, columns=ITEMS_COLUMNS)


def person(
    answers: dict[str, list],
    *,
    response: int = 1,
    role: str = "mentor",
    dyad: int = 1,
    wave: int = 1,
) -> dict:
    """One submitted response: ``{subscale: [answer to item 1, item 2, …]}``."""
    return {"response": response, "dyad": dyad, "wave": wave, "role": role, "answers": answers}


def frames(*people: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``answers`` and ``responses`` frames of the people."""
    rows = [
        (p["response"], p["dyad"], p["wave"], p["role"], f"{code}-{n}", _value(v))
        for p in people
        for code, values in p["answers"].items()
        for n, v in enumerate(values, start=1)
        if v != SKIP
    ]
    answers = pd.DataFrame(rows, columns=ANSWERS_COLUMNS)
    responses = pd.DataFrame(
        [(p["response"], p["dyad"], p["wave"], p["role"]) for p in people],
        columns=RESPONSES_COLUMNS,
    )
    return answers, responses


def _value(v) -> float:
    return math.nan if v == NA else float(v)


def score(items: pd.DataFrame, *people: dict, constants: Constants | None = None) -> pd.DataFrame:
    answers, responses = frames(*people)
    return respondent_scores(answers, items, responses, constants)


def one(items: pd.DataFrame, answers: dict[str, list], **kwargs) -> pd.Series:
    """The score row of a single respondent."""
    return score(items, person(answers), **kwargs).iloc[0]


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
        *scoring.SCORE_COLUMNS,
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
    assert list(table.columns) == scoring.PSYCHOMETRICS_COLUMNS
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
            **{f"{x}_{r}": np.nan for x in scoring.SCORE_COLUMNS for r in ("mentor", "protege")},
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


# --- the worked example (DESIGN §4.6) -----------------------------------------------------

EXAMPLE_ITEMS = items_for(
    {
        **{f"REL-{s}": 3 for s in ("LG", "IN", "AF", "CN", "SI", "TC")},
        **{f"CAR-{s}": 3 for s in ("SP", "EX", "CO", "PR", "CH")},
        **{f"PSY-{s}": 3 for s in ("RM", "AC", "CS", "FR")},
        "STR": 6,
        "OVR": 3,
    },
    reverse=("REL-CN-3",),
)
EXAMPLE_MENTOR = {
    "REL-LG": [6, 6, 5], "REL-IN": [6, 5, 6], "REL-AF": [6, 6, 6],
    "REL-CN": [5, 6, 2], "REL-SI": [6, 5, 5], "REL-TC": [6, 6, 7],
    "CAR-SP": [5, 5, 4], "CAR-EX": [5, 4, 4], "CAR-CO": [6, 6, 5],
    "CAR-PR": [5, NA, 4], "CAR-CH": [6, 5, 5],
    "PSY-RM": [6, 6, 5], "PSY-AC": [6, 7, 6], "PSY-CS": [5, 6, 5], "PSY-FR": [6, 5, 6],
    "STR": [1, 1, 2, 1, 1, 1], "OVR": [6, 6, 7],
}  # fmt: skip
EXAMPLE_PROTEGE = {
    "REL-LG": [6, 5, 5], "REL-IN": [5, 5, 6], "REL-AF": [6, 5, SKIP],
    "REL-CN": [5, 5, 3], "REL-SI": [6, 6, 5], "REL-TC": [5, 6, 5],
    "CAR-SP": [5, 4, 4], "CAR-EX": [4, 4, 5], "CAR-CO": [6, 5, 6],
    "CAR-PR": [5, 5, 4], "CAR-CH": [5, 5, 6],
    "PSY-RM": [6, 5, 6], "PSY-AC": [6, 6, 6], "PSY-CS": [5, 5, 6], "PSY-FR": [5, 6, 5],
    "STR": [1, 1, 1, 2, 1, 1], "OVR": [6, 6, 6],
}  # fmt: skip
# (mentor, protégé) subscale scores by hand; REL-CN-3 is reverse-keyed: 2 → 6, 3 → 5.
EXAMPLE_SUBSCALES = {
    "REL-LG": (17 / 3, 16 / 3), "REL-IN": (17 / 3, 16 / 3), "REL-AF": (6.0, 5.5),
    "REL-CN": (17 / 3, 5.0), "REL-SI": (16 / 3, 17 / 3), "REL-TC": (19 / 3, 16 / 3),
    "CAR-SP": (14 / 3, 13 / 3), "CAR-EX": (13 / 3, 13 / 3), "CAR-CO": (17 / 3, 17 / 3),
    "CAR-PR": (4.5, 14 / 3), "CAR-CH": (16 / 3, 16 / 3),
    "PSY-RM": (17 / 3, 17 / 3), "PSY-AC": (19 / 3, 6.0), "PSY-CS": (16 / 3, 16 / 3),
    "PSY-FR": (17 / 3, 16 / 3),
}  # fmt: skip
EXAMPLE_BATTERIES = {
    "REL": (52 / 9, 193 / 36),
    "CAR": (4.9, 73 / 15),
    "PSY": (5.75, 67 / 12),
    "STR": (7 / 6, 7 / 6),
    "OVR": (19 / 3, 6.0),
    "KRAM": (5.325, 5.225),
}


def example_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    answers, responses = frames(
        person(EXAMPLE_MENTOR, response=1, role="mentor"),
        person(EXAMPLE_PROTEGE, response=2, role="protege"),
    )
    return answers, EXAMPLE_ITEMS, responses


def test_worked_example_subscale_and_battery_scores():
    scores = respondent_scores(*example_frames()).set_index("role")
    for code, (mentor, protege) in {**EXAMPLE_SUBSCALES, **EXAMPLE_BATTERIES}.items():
        assert scores.loc["mentor", code] == pytest.approx(mentor), code
        assert scores.loc["protege", code] == pytest.approx(protege), code


def test_worked_example_dyad_values_state_and_flags():
    result = continuum.compute(*example_frames()).loc[(1, 1)]
    assert result["REL_dyad"] == pytest.approx(401 / 72)  # 5.5694
    assert result["REL_diff"] == pytest.approx(-15 / 36)  # −0.4167
    assert result["CAR_dyad"] == pytest.approx(4.883333, abs=1e-6)
    assert result["PSY_dyad"] == pytest.approx(17 / 3)
    assert result["KRAM_dyad"] == pytest.approx(5.275)
    assert result["KRAM_diff"] == pytest.approx(-0.1)
    assert result["OVR_diff"] == pytest.approx(-1 / 3)
    assert result["CN_gap"] == pytest.approx(2 / 3)
    assert result["position"] == pytest.approx(100 * (401 / 72 - 1) / 6)  # 76.16
    assert result["congruence"] == "aligned"
    assert result["state"] == "traditional"
    assert result["flags"] == ("borderline",)
    assert result["transition"] == "first" and math.isnan(result["change"])
    assert result["rule_version"] == "continuum-v1"


def _doc_row(doc: str, code: str) -> list[str]:
    """The row of the docstring's answer table that starts with ``code``."""
    rows = [line.split() for line in doc.splitlines()]
    return next(row for row in rows if row[:1] == [code] and row[1][0] in "1234567n-")


@pytest.mark.parametrize("code", list(EXAMPLE_MENTOR))
def test_the_module_docstring_shows_the_same_answers_and_subscale_scores(code):
    tokens = _doc_row(scoring.__doc__, code)
    mentor, protege = EXAMPLE_MENTOR[code], EXAMPLE_PROTEGE[code]
    k = len(mentor)
    shown = [t.removesuffix("r") for t in tokens[1 : 1 + k] + tokens[2 + k : 2 + 2 * k]]
    assert shown == [str(v) for v in mentor + protege]
    scores = respondent_scores(*example_frames()).set_index("role")[code]
    assert float(tokens[1 + k]) == pytest.approx(scores["mentor"], abs=5e-5)
    assert float(tokens[2 + 2 * k]) == pytest.approx(scores["protege"], abs=5e-5)


@pytest.mark.parametrize(
    "text",
    [
        "5.7778",
        "5.3611",
        "5.5694",
        "-0.4167",
        "0.6667",
        "76.16",
        "5.2250",
        "traditional",
        "borderline",
    ],
)
def test_the_docstring_and_the_docs_page_carry_the_final_numbers(text):
    assert text in scoring.__doc__
    assert text.replace("-", "−") in DOCS.read_text()
