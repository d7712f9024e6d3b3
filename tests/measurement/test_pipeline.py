"""The worked example of DESIGN §4.6, through the one pipeline, in code and in docs."""

import math
from pathlib import Path

import pandas as pd
import pytest

from assessments.measurement import pipeline
from tests.measurement.builders import NA, SKIP, frames, items_for, person

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scoring.md"


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
    scores = pipeline.score(*example_frames()).respondents.set_index("role")
    for code, (mentor, protege) in {**EXAMPLE_SUBSCALES, **EXAMPLE_BATTERIES}.items():
        assert scores.loc["mentor", code] == pytest.approx(mentor), code
        assert scores.loc["protege", code] == pytest.approx(protege), code


def test_worked_example_dyad_values_state_and_flags():
    result = pipeline.score(*example_frames()).dyads.loc[(1, 1)]
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
    tokens = _doc_row(pipeline.__doc__, code)
    mentor, protege = EXAMPLE_MENTOR[code], EXAMPLE_PROTEGE[code]
    k = len(mentor)
    shown = [t.removesuffix("r") for t in tokens[1 : 1 + k] + tokens[2 + k : 2 + 2 * k]]
    assert shown == [str(v) for v in mentor + protege]
    scores = pipeline.score(*example_frames()).respondents.set_index("role")[code]
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
    assert text in pipeline.__doc__
    assert text.replace("-", "−") in DOCS.read_text()
