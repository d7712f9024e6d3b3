"""The one-dyad path (``pipeline.score_dyad``) gives exactly the rows of
``pipeline.score``: the same doubles, states, flags and changes, for generated dyads,
the worked example, two instrument versions and answers the pipeline refuses."""

import math

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from assessments.measurement import pipeline
from assessments.measurement.rules import Constants
from assessments.measurement.single import Item, Submitted
from tests.measurement.builders import frames, person
from tests.measurement.test_pipeline import EXAMPLE_ITEMS, EXAMPLE_MENTOR, EXAMPLE_PROTEGE
from tests.measurement.test_properties import SETTINGS, datasets, every_pair

CONSTANTS = [Constants(), Constants.from_overrides({"strain_cut": 2.0, "sem": 0.8})]


def catalogue(items: pd.DataFrame) -> list[Item]:
    return [
        Item(r.item, r.battery, r.subscale, bool(r.reverse_keyed), float(r.scale_min),
             float(r.scale_max))
        for r in items.itertuples()
    ]  # fmt: skip


def submitted(answers: pd.DataFrame, responses: pd.DataFrame, dyad: int) -> list[Submitted]:
    mine = responses[responses["dyad"] == dyad]
    instrument = mine["instrument"] if "instrument" in mine else pd.Series(1, index=mine.index)
    return [
        Submitted(
            r.wave, r.role, int(instrument[index]),
            {a.item: None if math.isnan(a.value) else a.value
             for a in answers[answers["response"] == r.response].itertuples()},
        )
        for index, r in zip(mine.index, mine.itertuples(), strict=True)
    ]  # fmt: skip


def same(left: dict, right: dict) -> bool:
    """Equal rows, NaN equal to NaN, and nothing else loosened."""
    if left.keys() != right.keys():
        return False
    for key, value in left.items():
        other = right[key]
        if isinstance(value, float) and math.isnan(value):
            if not (isinstance(other, float) and math.isnan(other)):
                return False
        elif value != other or type(value) is float and type(other) is not float:
            return False
    return True


def assert_same_rows(answers, items, responses, pairs, constants, catalogues) -> None:
    expected = pipeline.score(answers, items, responses, pairs, constants).dyads.reset_index()
    for dyad in sorted(set(pairs["dyad"]) | set(responses["dyad"])):
        rows = pipeline.score_dyad(
            dyad=dyad,
            responses=submitted(answers, responses, dyad),
            items=catalogues,
            waves=sorted(pairs.loc[pairs["dyad"] == dyad, "wave"]),
            constants=constants,
        )
        wanted = expected[expected["dyad"] == dyad].to_dict("records")
        assert len(rows) == len(wanted)
        for got, row in zip(rows, wanted, strict=True):
            assert same(got, {k: _plain(v) for k, v in row.items()}), (got, row)


def _plain(value):
    return float(value) if isinstance(value, float) else value


@SETTINGS
@given(datasets(), st.sampled_from(CONSTANTS))
def test_one_dyad_without_frames_scores_exactly_as_the_pipeline(data, constants):
    answers, items, responses = data
    pairs = every_pair(responses)
    assert_same_rows(answers, items, responses, pairs, constants, {1: catalogue(items)})


def test_the_worked_example_scores_the_same_without_frames():
    answers, responses = frames(
        person(EXAMPLE_MENTOR, response=1, role="mentor"),
        person(EXAMPLE_PROTEGE, response=2, role="protege"),
    )
    pairs = pd.DataFrame({"dyad": [1, 1], "wave": [1, 2]})
    assert_same_rows(
        answers, EXAMPLE_ITEMS, responses, pairs, Constants(), {1: catalogue(EXAMPLE_ITEMS)}
    )


def test_waves_on_two_instrument_versions_score_the_same_without_frames():
    answers, responses = frames(
        person(EXAMPLE_MENTOR, response=1, role="mentor", wave=1),
        person(EXAMPLE_PROTEGE, response=2, role="protege", wave=1),
        person({**EXAMPLE_MENTOR, "REL-CN": [7, 7]}, response=3, role="mentor", wave=2),
    )
    second = EXAMPLE_ITEMS[EXAMPLE_ITEMS["item"] != "REL-CN-3"]
    items = pd.concat([EXAMPLE_ITEMS.assign(instrument=1), second.assign(instrument=2)])
    responses = responses.assign(instrument=[1, 1, 2])
    pairs = pd.DataFrame({"dyad": [1, 1], "wave": [1, 2]})
    catalogues = {1: catalogue(EXAMPLE_ITEMS), 2: catalogue(second)}
    assert_same_rows(answers, items, responses, pairs, Constants(), catalogues)


def test_answers_the_pipeline_refuses_send_the_caller_to_it():
    outside = Submitted(1, "mentor", 1, {"REL-LG-1": 9.0})
    unknown = Submitted(1, "mentor", 1, {"XYZ-1": 3.0})
    twice = [Submitted(1, "mentor", 1, {}), Submitted(1, "mentor", 1, {})]
    items = {1: catalogue(EXAMPLE_ITEMS)}
    for responses in ([outside], [unknown], twice):
        assert pipeline.score_dyad(dyad=1, responses=responses, items=items, waves=[1]) is None
