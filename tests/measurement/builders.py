"""Small frame builders shared by the measurement tests."""

from __future__ import annotations

import math

import pandas as pd

from assessments.measurement.rules import (
    ANSWERS_COLUMNS,
    ITEMS_COLUMNS,
    RESPONSES_COLUMNS,
    Constants,
)
from assessments.measurement.scoring import respondent_scores

NA = "na"  # "not applicable" was chosen: a row with a NaN value
SKIP = "--"  # no row at all
SCALES = {"STR": (1, 5)}  # every other battery answers on 1–7


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
