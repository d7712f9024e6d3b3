"""Properties of the whole rule on random answer sets over small random instruments.

The last test compares the vectorised code with a slow, straightforward per-dyad
reimplementation written here in exact fractions.
"""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.measurement import pipeline, scoring
from assessments.measurement.rules import (
    ANSWERS_COLUMNS,
    ITEMS_COLUMNS,
    RESPONSES_COLUMNS,
    STATE_ORDER,
    Constants,
)

NA, SKIP = "na", "skip"
ROLES = ("mentor", "protege")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- random data -------------------------------------------------------------------------


@st.composite
def instruments(draw) -> pd.DataFrame:
    """A small catalogue: 1–3 REL subscales (CN first), 0–2 CAR, 1–2 PSY, STR, maybe OVR."""
    rows = []
    plan = [
        ("REL", ["REL-CN", "REL-LG", "REL-TC"][: draw(st.integers(1, 3))], 7),
        ("CAR", ["CAR-SP", "CAR-CO"][: draw(st.integers(0, 2))], 7),
        ("PSY", ["PSY-RM", "PSY-AC"][: draw(st.integers(1, 2))], 7),
        ("STR", ["STR"], 5),
        ("OVR", ["OVR"][: draw(st.integers(0, 1))], 7),
    ]
    for battery, codes, high in plan:
        for code in codes:
            k = draw(st.integers(1, 4))
            reverse = draw(st.integers(0, k))  # 0: no reverse-keyed item
            rows += [(f"{code}-{n}", battery, code, n == reverse, 1, high) for n in range(1, k + 1)]
    return pd.DataFrame(rows, columns=ITEMS_COLUMNS)


@st.composite
def datasets(draw) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``answers, items, responses``: up to 3 dyads × 3 waves, each side submitted or not.

    Each dyad has a quality level that drifts across waves and each respondent answers
    around it (so every state and transition occurs), with about one answer in twenty
    skipped and one in twenty "not applicable".
    """
    items = draw(instruments())
    responses, answers = [], []
    for dyad in range(1, draw(st.integers(1, 3)) + 1):
        quality = draw(st.integers(2, 7))
        for wave in range(1, draw(st.integers(1, 3)) + 1):
            quality = min(7, max(2, quality + draw(st.integers(-2, 2))))
            for role in ROLES:
                if draw(st.integers(0, 5)) == 0:
                    continue
                response = len(responses) + 1
                responses.append((response, dyad, wave, role))
                level = {
                    7: quality + draw(st.integers(-1, 1)),
                    5: draw(st.sampled_from((1, 1, 2, 2, 3, 4, 5) if quality < 4 else (1, 1, 2))),
                }
                answers += [
                    (response, dyad, wave, role, item.item, value)
                    for item in items.itertuples()
                    if (value := draw(answer(item, level[int(item.scale_max)]))) is not None
                ]
    return (
        pd.DataFrame(answers, columns=ANSWERS_COLUMNS).astype({"value": float}),
        items,
        pd.DataFrame(responses, columns=RESPONSES_COLUMNS),
    )


@st.composite
def answer(draw, item, level: int) -> float | None:
    """A raw answer near ``level`` (None: skipped; NaN: "not applicable")."""
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return None
    if kind == 1:
        return math.nan
    high = int(item.scale_max)
    value = min(high, max(1, level + draw(st.integers(-1, 1))))
    return float(high + 1 - value if item.reverse_keyed else value)


def every_pair(responses: pd.DataFrame) -> pd.DataFrame:
    """Every dyad × wave up to the largest of each seen, as a program would expect them."""
    if responses.empty:
        return pd.DataFrame({"dyad": [1], "wave": [1]})
    dyads, waves = range(1, responses["dyad"].max() + 1), range(1, responses["wave"].max() + 1)
    return pd.DataFrame([(d, w) for d in dyads for w in waves], columns=["dyad", "wave"])


# --- properties --------------------------------------------------------------------------


@SETTINGS
@given(datasets())
def test_scores_stay_within_the_scale_bounds(data):
    answers, items, responses = data
    scores = scoring.respondent_scores(answers, items, responses)
    bounds = items.groupby("subscale")["scale_max"].max().to_dict() | {
        "REL": 7, "CAR": 7, "PSY": 7, "OVR": 7, "KRAM": 7, "STR": 5,
    }  # fmt: skip
    for column, high in bounds.items():
        if column in scores:
            present = scores[column].dropna()
            assert present.between(1, high).all(), column


@SETTINGS
@given(datasets())
def test_swapping_mentor_and_protege_mirrors_the_dyad_values(data):
    answers, items, responses = data
    swap = {"mentor": "protege", "protege": "mentor"}
    mirrored = pipeline.score(
        answers.assign(role=answers["role"].map(swap)),
        items,
        responses.assign(role=responses["role"].map(swap)),
    ).dyads
    original = pipeline.score(answers, items, responses).dyads
    for column in original.columns:
        stem, _, part = column.rpartition("_")
        if part in ROLES:
            other = f"{stem}_{swap[part]}"
            pd.testing.assert_series_equal(original[column], mirrored[other], check_names=False)
        elif part == "diff":
            pd.testing.assert_series_equal(original[column], -mirrored[column])
    flipped = {"protege_higher": "mentor_higher", "mentor_higher": "protege_higher"}
    expected = [flipped.get(label, label) for label in original["congruence"]]
    assert list(mirrored["congruence"]) == expected
    assert original["mentor_submitted"].equals(mirrored["protege_submitted"])
    for column in ("state", "flags", "transition", "change", "CN_gap", "REL_dyad", "position"):
        pd.testing.assert_series_equal(original[column], mirrored[column])


def improved(answers: pd.DataFrame, items: pd.DataFrame, step: int) -> pd.DataFrame:
    """Every answer moved ``step`` raw points towards better quality, within its scale."""
    catalogue = items.set_index("item")
    meta = catalogue.loc[answers["item"]].reset_index(drop=True)
    lower_is_better = meta["reverse_keyed"].to_numpy() != (meta["battery"] == "STR").to_numpy()
    moved = answers["value"].to_numpy() + np.where(lower_is_better, -step, step)
    return answers.assign(value=moved.clip(1, meta["scale_max"].to_numpy()))


@SETTINGS
@given(datasets(), st.integers(1, 3))
def test_better_answers_never_lower_the_state(data, step):
    answers, items, responses = data
    before = pipeline.score(answers, items, responses).dyads
    after = pipeline.score(improved(answers, items, step), items, responses).dyads
    assert (before["state"] == "unplaced").equals(after["state"] == "unplaced")
    placed = before["state"] != "unplaced"
    ranks = before["state"][placed].map(STATE_ORDER), after["state"][placed].map(STATE_ORDER)
    assert (ranks[1] >= ranks[0]).all()


@SETTINGS
@given(datasets())
def test_results_equal_a_straightforward_reimplementation(data):
    answers, items, responses = data
    pairs = every_pair(responses)
    result = pipeline.score(answers, items, responses, pairs=pairs).dyads
    expected = reference(answers, items, responses, pairs)
    assert set(result.index) == set(expected)
    for key, row in expected.items():
        actual = result.loc[key]
        for name, value in row.items():
            if isinstance(value, Fraction) or (isinstance(value, float) and math.isnan(value)):
                assert _close(actual[name], value), (key, name, actual[name], value)
            else:
                assert actual[name] == value, (key, name, actual[name], value)


def _close(actual: float, expected: Fraction | float) -> bool:
    if isinstance(expected, float):
        return math.isnan(actual)
    return not math.isnan(actual) and math.isclose(actual, expected, abs_tol=1e-9)


# --- the slow reference, one dyad at a time, in exact fractions --------------------------

F = {name: Fraction(str(value)) for name, value in Constants().as_dict().items()}
SCORES = ("REL", "CAR", "PSY", "STR", "OVR", "KRAM")
RANK = {"dysfunctional": 0, "traditional": 1, "relational": 2}


def reference(answers, items, responses, pairs) -> dict:
    """Per (dyad, wave): the result fields, computed by the letter of DESIGN §4."""
    people = {}
    for response, dyad, wave, role in responses.itertuples(index=False):
        mine = answers[answers["response"] == response]
        people[(dyad, wave, role)] = person_scores(
            dict(zip(mine["item"], mine["value"], strict=True)), items
        )
    keys = {(d, w) for d, w, _ in people} | set(pairs.itertuples(index=False, name=None))
    codes = [code for code in items["subscale"].unique() if code not in SCORES]
    results = {}
    for key in keys:
        mentor, protege = people.get((*key, "mentor")), people.get((*key, "protege"))
        results[key] = dyad_result(mentor, protege, codes)
    add_changes(results)
    return results


def person_scores(answered: dict, items: pd.DataFrame) -> dict:
    """Subscale scores (under their codes) and battery scores of one respondent."""
    scores = {}
    for code, rows in items.groupby("subscale", sort=False):
        values = []
        for item in rows.itertuples():
            value = answered.get(item.item)
            if value is None or math.isnan(value):
                continue
            if item.reverse_keyed:
                value = item.scale_min + item.scale_max - value
            values.append(Fraction(int(value)))
        k = len(rows)
        need = min(k, max(2, math.ceil(Fraction(2 * k, 3))))
        scores[code] = sum(values) / len(values) if len(values) >= need else None
    for battery in ("REL", "CAR", "PSY", "STR", "OVR"):
        codes = list(items[items["battery"] == battery]["subscale"].unique())
        valid = [scores[code] for code in codes if scores[code] is not None]
        if valid and len(codes) - len(valid) <= 1:
            scores[battery] = sum(valid) / len(valid)
        else:
            scores[battery] = None
    both = scores["CAR"] is not None and scores["PSY"] is not None
    scores["KRAM"] = (scores["CAR"] + scores["PSY"]) / 2 if both else None
    return scores


def dyad_result(mentor: dict | None, protege: dict | None, codes: list[str]) -> dict:
    row = {"mentor_submitted": mentor is not None, "protege_submitted": protege is not None}
    for name in [*codes, *SCORES]:
        m = mentor.get(name) if mentor else None
        p = protege.get(name) if protege else None
        row[f"{name}_mentor"], row[f"{name}_protege"] = m, p
        if name in SCORES:
            row[f"{name}_dyad"] = (m + p) / 2 if m is not None and p is not None else None
            row[f"{name}_diff"] = p - m if m is not None and p is not None else None
    diff = row["REL_diff"]
    if diff is None:
        row["congruence"] = None
    elif abs(diff) < F["aligned_threshold"]:
        row["congruence"] = "aligned"
    else:
        row["congruence"] = "protege_higher" if diff > 0 else "mentor_higher"
    dyad = row["REL_dyad"]
    row["position"] = 100 * (dyad - 1) / 6 if dyad is not None else None
    cn = (row.get("REL-CN_mentor"), row.get("REL-CN_protege"))
    row["CN_gap"] = abs(cn[1] - cn[0]) if None not in cn else None
    row["state"] = state_of(mentor, protege)
    row["flags"] = flags_of(mentor, protege, row)
    return {name: math.nan if value is None and name != "congruence" else value
            for name, value in row.items()}  # fmt: skip


def flags_of(mentor: dict | None, protege: dict | None, row: dict) -> tuple[str, ...]:
    flags = set()
    state = row["state"]
    if (mentor is None) != (protege is None):
        flags.add("awaiting_partner")
    if state != "unplaced":
        if state_of(mentor, protege, +1) != state or state_of(mentor, protege, -1) != state:
            flags.add("borderline")
    if state == "traditional":
        krams = [p["KRAM"] for p in (mentor, protege) if p["KRAM"] is not None]
        if krams and min(krams) < F["marginal_kram"]:
            flags.add("marginal")
    if row["CN_gap"] is not None and row["CN_gap"] >= F["cn_gap_threshold"]:
        flags.add("norms_incongruent")
    for p in (mentor, protege):
        if p is not None and p["STR"] is not None and p["STR"] >= F["strain_cut"]:
            flags.add("strain_reported")
    return tuple(sorted(flags))


def state_of(mentor: dict | None, protege: dict | None, direction: int = 0) -> str:
    """§4.3 for one dyad, every score moved ``direction`` SEMs towards better quality."""
    if mentor is None or protege is None:
        return "unplaced"
    sides = [shifted(p, direction * F["sem"]) for p in (mentor, protege)]
    if any(s["REL"] is None or s["PSY"] is None for s in sides):
        return "unplaced"
    for s in sides:
        if s["STR"] is not None and s["STR"] >= F["strain_cut"]:
            return "dysfunctional"
        if s["REL"] < F["dysfunctional_rel"] and s["PSY"] < F["dysfunctional_psy"]:
            return "dysfunctional"
    for s in sides:
        if s["REL"] < F["relational_rel"] or s["PSY"] < F["relational_psy"]:
            return "traditional"
        for code, value in s.items():
            if code.startswith("REL-") and value is not None:
                if value < F["relational_subscale_floor"]:
                    return "traditional"
    return "relational"


def shifted(scores: dict, delta: Fraction) -> dict:
    moved = {}
    for code, value in scores.items():
        if value is None or code == "OVR":
            moved[code] = value
        elif code == "STR":
            moved[code] = value - delta
        else:
            moved[code] = value + delta  # REL, CAR, PSY, KRAM and their subscales
    return moved


def add_changes(results: dict) -> None:
    for dyad in {d for d, _ in results}:
        last = None
        for wave in sorted(w for d, w in results if d == dyad):
            row = results[(dyad, wave)]
            row.update(change=math.nan, transition=None, transition_reliable=False)
            if row["state"] == "unplaced":
                continue
            if last is None:
                row["transition"] = "first"
            else:
                change = row["REL_dyad"] - last["REL_dyad"]
                now, before = RANK[row["state"]], RANK[last["state"]]
                row["change"] = change
                row["transition"] = "up" if now > before else "down" if now < before else "same"
                reliable = abs(change) >= F["reliable_change_dyad"]
                row["transition_reliable"] = reliable and row["transition"] != "same"
                flags = set(row["flags"])
                if change <= -F["reliable_change_dyad"]:
                    flags.add("reliable_decline")
                if change >= F["reliable_change_dyad"]:
                    flags.add("reliable_improvement")
                row["flags"] = tuple(sorted(flags))
            last = row
