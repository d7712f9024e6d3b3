"""Dyad values, placement, change and alerts (DESIGN §4.2–4.4), from hand-made scores.

Each partner starts from ``GOOD`` (a comfortably relational profile) and a test moves
only the scores it is about, so every expectation can be read off the §4.3 table.
"""

import dataclasses
import hashlib
import math

import numpy as np
import pandas as pd
import pytest

from assessments.measurement import pipeline
from assessments.measurement.change import alerts, changes
from assessments.measurement.placement import dyad_values, place
from assessments.measurement.rules import (
    ALERT_REASONS,
    ALERT_TEXT,
    RULE_VERSION,
    SCORE_COLUMNS,
    Constants,
)

REL_SUBSCALES = tuple(f"REL-{s}" for s in ("LG", "IN", "AF", "CN", "SI", "TC"))
SUBSCALES = (*REL_SUBSCALES, "CAR-SP", "PSY-RM")
GOOD = {code: 6.0 for code in (*SUBSCALES, *SCORE_COLUMNS)} | {"STR": 1.0}
MISSING = object()  # the partner has not submitted


# --- builders ----------------------------------------------------------------------------


def side(changes: dict | None = None, **scores: float) -> dict:
    """A partner's scores: ``GOOD`` with some moved (subscale codes go in ``changes``)."""
    return {**GOOD, **(changes or {}), **scores}


def scores_frame(*dyad_waves: tuple) -> pd.DataFrame:
    """Frame shaped like ``respondent_scores`` from ``(dyad, wave, mentor, protege)``."""
    rows = [
        {"response": dyad * 100 + wave * 10 + i, "dyad": dyad, "wave": wave, "role": role, **s}
        for dyad, wave, mentor, protege in dyad_waves
        for i, (role, s) in enumerate((("mentor", mentor), ("protege", protege)))
        if s is not MISSING
    ]
    columns = ["dyad", "wave", "role", *SUBSCALES, *SCORE_COLUMNS]
    return pd.DataFrame(rows, columns=["response", *columns]).set_index("response")[columns]


def placement(mentor=GOOD, protege=GOOD, constants: Constants | None = None) -> pd.Series:
    """The placed row of one dyad at one wave."""
    values = dyad_values(scores_frame((1, 1, mentor, protege)), constants=constants)
    return place(values, constants).loc[(1, 1)]


def history(*waves: tuple, constants: Constants | None = None) -> pd.DataFrame:
    """``changes`` of dyad 1 over waves 1, 2, …, each given as ``(mentor, protege)``."""
    scores = scores_frame(*[(1, n, m, p) for n, (m, p) in enumerate(waves, start=1)])
    pairs = pd.DataFrame({"dyad": 1, "wave": range(1, len(waves) + 1)})
    placed = place(dyad_values(scores, pairs, constants), constants)
    return changes(placed, constants).loc[1]


def level(rel: float) -> tuple[dict, dict]:
    """Both partners at REL ``rel`` and otherwise ``GOOD``."""
    return side(REL=rel), side(REL=rel)


# --- dyad values -------------------------------------------------------------------------


def test_dyad_values_pair_the_partners_and_compute_level_and_direction():
    row = dyad_values(scores_frame((4, 2, side(REL=5.0, PSY=6.5), side(REL=6.0, PSY=5.5)))).loc[
        (4, 2)
    ]
    assert row["mentor_submitted"] and row["protege_submitted"]
    assert (row["REL_mentor"], row["REL_protege"]) == (5.0, 6.0)
    assert row["REL_dyad"] == 5.5 and row["REL_diff"] == 1.0
    assert row["PSY_dyad"] == 6.0 and row["PSY_diff"] == -1.0
    assert row["REL-CN_mentor"] == 6.0 and row["CAR-SP_protege"] == 6.0
    assert row["position"] == pytest.approx(75.0)  # 100 · (5.5 − 1)/6
    assert row["congruence"] == "aligned"


def test_dyad_values_columns_follow_the_contract():
    values = dyad_values(scores_frame((1, 1, GOOD, GOOD)))
    assert values.index.names == ["dyad", "wave"]
    expected = [
        "mentor_submitted",
        "protege_submitted",
        *[f"{code}_{role}" for code in SUBSCALES for role in ("mentor", "protege")],
        *[f"{x}_{part}" for x in SCORE_COLUMNS for part in ("mentor", "protege", "dyad", "diff")],
        "congruence",
        "CN_gap",
        "position",
    ]
    assert list(values.columns) == expected


def test_level_and_direction_need_both_partners():
    row = dyad_values(scores_frame((1, 1, side(REL=5.0), MISSING))).loc[(1, 1)]
    assert row["mentor_submitted"] and not row["protege_submitted"]
    assert row["REL_mentor"] == 5.0 and math.isnan(row["REL_protege"])
    assert math.isnan(row["REL_dyad"]) and math.isnan(row["REL_diff"])
    assert row["congruence"] is None and math.isnan(row["CN_gap"])


def test_pairs_add_expected_dyad_waves_without_any_response():
    pairs = pd.DataFrame({"dyad": [1, 1, 2], "wave": [1, 2, 1]})
    values = dyad_values(scores_frame((1, 1, GOOD, GOOD)), pairs=pairs)
    assert list(values.index) == [(1, 1), (1, 2), (2, 1)]
    assert not values.loc[(2, 1), ["mentor_submitted", "protege_submitted"]].any()
    placed = place(values)
    assert placed.loc[(2, 1), "state"] == "unplaced"
    assert placed.loc[(2, 1), "flags"] == ()


def test_two_responses_for_one_role_are_refused():
    scores = scores_frame((1, 1, GOOD, GOOD))
    doubled = pd.concat([scores, scores.iloc[[0]].set_axis([999])])
    with pytest.raises(ValueError, match="more than one response"):
        dyad_values(doubled)


@pytest.mark.parametrize(
    ("diff", "label"),
    [
        (0.0, "aligned"),
        (1.06, "aligned"),
        (1.07, "protege_higher"),
        (1.08, "protege_higher"),
        (-1.06, "aligned"),
        (-1.07, "mentor_higher"),  # 3.93 − 5.0 is −1.0699999999999998 in floating point
        (-1.08, "mentor_higher"),
    ],
)
def test_congruence_is_aligned_below_1_07_points_of_rel_difference(diff, label):
    assert placement(side(REL=5.0), side(REL=5.0 + diff))["congruence"] == label


@pytest.mark.parametrize(("gap", "flagged"), [(1.49, False), (1.5, True), (1.51, True)])
def test_norms_incongruent_from_a_communal_norms_gap_of_1_5(gap, flagged):
    row = placement(side({"REL-CN": 6.0}), side({"REL-CN": 6.0 - gap}))
    assert row["CN_gap"] == pytest.approx(gap)
    assert ("norms_incongruent" in row["flags"]) is flagged


# --- placement: each cut at, just above and just below -----------------------------------


def test_two_good_partners_are_relational_with_no_flags():
    row = placement()
    assert (row["state"], row["flags"]) == ("relational", ())


@pytest.mark.parametrize(
    ("strain", "state"), [(2.99, "relational"), (3.0, "dysfunctional"), (3.01, "dysfunctional")]
)
def test_strain_of_3_from_one_partner_makes_the_dyad_dysfunctional(strain, state):
    row = placement(side(STR=strain), GOOD)
    assert row["state"] == state
    assert ("strain_reported" in row["flags"]) is (state == "dysfunctional")


@pytest.mark.parametrize(
    ("rel", "psy", "state"),
    [
        (3.99, 3.99, "dysfunctional"),
        (4.0, 3.99, "traditional"),
        (3.99, 4.0, "traditional"),
        (4.01, 3.99, "traditional"),
        (3.99, 4.01, "traditional"),
        (4.0, 4.0, "traditional"),
    ],
)
def test_one_partner_with_both_rel_and_psy_below_4_makes_the_dyad_dysfunctional(rel, psy, state):
    assert placement(GOOD, side(REL=rel, PSY=psy))["state"] == state


@pytest.mark.parametrize(
    ("rel", "state"), [(5.49, "traditional"), (5.5, "relational"), (5.51, "relational")]
)
def test_relational_needs_rel_of_5_5_from_both_partners(rel, state):
    assert placement(GOOD, side(REL=rel))["state"] == state
    assert placement(side(REL=rel), GOOD)["state"] == state


@pytest.mark.parametrize(
    ("psy", "state"), [(4.99, "traditional"), (5.0, "relational"), (5.01, "relational")]
)
def test_relational_needs_psy_of_5_from_both_partners(psy, state):
    assert placement(GOOD, side(PSY=psy))["state"] == state
    assert placement(side(PSY=psy), GOOD)["state"] == state


@pytest.mark.parametrize(
    ("subscale", "state"), [(4.49, "traditional"), (4.5, "relational"), (4.51, "relational")]
)
def test_one_low_rel_subscale_of_one_partner_blocks_relational(subscale, state):
    assert placement(GOOD, side({"REL-TC": subscale}))["state"] == state
    assert placement(side({"REL-LG": subscale}), GOOD)["state"] == state


def test_a_missing_rel_subscale_does_not_block_relational():
    assert placement(GOOD, side({"REL-SI": np.nan}))["state"] == "relational"


def test_low_career_or_psychosocial_subscales_do_not_block_relational():
    assert placement(side({"CAR-SP": 2.0, "PSY-RM": 2.0}), GOOD)["state"] == "relational"


@pytest.mark.parametrize(("kram", "marginal"), [(4.49, True), (4.5, False), (4.51, False)])
def test_a_traditional_dyad_is_marginal_when_the_lower_kram_is_below_4_5(kram, marginal):
    row = placement(side(REL=5.0, KRAM=kram), side(REL=5.0, KRAM=6.5))
    assert row["state"] == "traditional"
    assert ("marginal" in row["flags"]) is marginal


def test_only_traditional_dyads_are_marginal():
    assert "marginal" not in placement(side(KRAM=4.0), GOOD)["flags"]
    assert "marginal" not in placement(side(STR=4.5, KRAM=2.0), GOOD)["flags"]


# --- placement: partners missing ---------------------------------------------------------


def test_a_dyad_with_one_partner_is_unplaced_and_awaits_the_partner():
    row = placement(GOOD, MISSING)
    assert (row["state"], row["flags"]) == ("unplaced", ("awaiting_partner",))


def test_strain_is_reported_even_before_the_partner_submits():
    row = placement(MISSING, side(STR=3.5))
    assert row["state"] == "unplaced"
    assert row["flags"] == ("awaiting_partner", "strain_reported")


def test_both_submitted_without_a_valid_psy_is_unplaced_without_awaiting_partner():
    row = placement(GOOD, side(PSY=np.nan))
    assert (row["state"], row["flags"]) == ("unplaced", ())


def test_a_missing_strain_score_reports_no_strain():
    row = placement(side(STR=np.nan), GOOD)
    assert (row["state"], row["flags"]) == ("relational", ())


# --- placement: borderline ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("mentor", "protege", "state", "borderline"),
    [
        (side(REL=5.3), side(REL=5.3), "traditional", True),  # +0.39 → 5.69: relational
        (side(REL=5.6), side(REL=5.6), "relational", True),  # −0.39 → 5.21: traditional
        (side(REL=5.11), side(REL=5.5), "traditional", True),  # +0.39 reaches exactly 5.5
        (side(REL=5.10), side(REL=5.5), "traditional", False),  # +0.39 → 5.49
        (GOOD, side({"REL-TC": 4.3}), "traditional", True),  # the subscale → 4.69
        (GOOD, side(PSY=4.7), "traditional", True),  # PSY → 5.09
        (side(STR=3.2), GOOD, "dysfunctional", True),  # STR → 2.81
        (side(REL=4.2, PSY=3.5), GOOD, "traditional", True),  # −0.39: REL 3.81 and PSY 3.11
        (side(STR=4.5), GOOD, "dysfunctional", False),  # STR → 4.11, still ≥ 3
        # Better means STR down *with* REL/PSY up: 2.81 and 4.59 leave dysfunctional.
        # (STR down with REL/PSY down to 3.81 would stay dysfunctional: the sign matters.)
        (side(STR=3.2, REL=4.2, PSY=4.2), GOOD, "dysfunctional", True),
        (side(REL=4.8), GOOD, "traditional", False),  # 5.19 and 4.41: no cut crossed
        (side(REL=6.5, PSY=6.5), side(REL=6.5, PSY=6.5), "relational", False),
    ],
)
def test_borderline_when_one_sem_either_way_changes_the_state(mentor, protege, state, borderline):
    row = placement(mentor, protege)
    assert row["state"] == state
    assert ("borderline" in row["flags"]) is borderline


def test_an_unplaced_dyad_is_never_borderline():
    assert "borderline" not in placement(side(REL=5.5), MISSING)["flags"]


def test_the_sem_is_a_program_constant():
    wide = Constants.from_overrides({"sem": 0.8})
    assert "borderline" in placement(side(REL=4.8), GOOD, wide)["flags"]


# --- change between waves ----------------------------------------------------------------


def test_the_first_placed_wave_has_no_change():
    first = history(level(5.0)).loc[1]
    assert first["transition"] == "first" and math.isnan(first["change"])
    assert not first["transition_reliable"]


@pytest.mark.parametrize(
    ("delta", "state", "transition", "reliable", "flag"),
    [
        (0.75, "relational", "up", False, None),
        (0.76, "relational", "up", True, "reliable_improvement"),  # 5.76 − 5 = 0.7599999…
        (0.77, "relational", "up", True, "reliable_improvement"),
        (0.3, "traditional", "same", False, None),
        (-0.75, "traditional", "same", False, None),
        (-0.76, "traditional", "same", False, "reliable_decline"),
        (-0.77, "traditional", "same", False, "reliable_decline"),
        (-1.2, "dysfunctional", "down", True, "reliable_decline"),  # with PSY 3.5 below
    ],
)
def test_change_is_reliable_from_0_76_rel_points(delta, state, transition, reliable, flag):
    later = side(REL=5.0 + delta, PSY=3.5 if state == "dysfunctional" else 6.0)
    second = history(level(5.0), (later, side(REL=5.0 + delta))).loc[2]
    assert second["state"] == state
    assert second["change"] == pytest.approx(delta)
    assert second["transition"] == transition
    assert bool(second["transition_reliable"]) is reliable
    assert [f for f in second["flags"] if f.startswith("reliable")] == ([flag] if flag else [])


def test_change_skips_an_unplaced_wave_and_compares_with_the_last_placed_one():
    result = history(level(5.0), (GOOD, MISSING), level(5.9))
    assert list(result["state"]) == ["traditional", "unplaced", "relational"]
    gap = result.loc[2]
    assert gap["transition"] is None and math.isnan(gap["change"])
    assert gap["flags"] == ("awaiting_partner",)
    third = result.loc[3]
    assert third["change"] == pytest.approx(0.9)  # against wave 1, not the unplaced wave 2
    assert third["transition"] == "up" and third["transition_reliable"]
    assert third["flags"] == ("reliable_improvement",)


def test_a_dyad_first_placed_after_an_unplaced_wave_starts_with_first():
    result = history((MISSING, MISSING), level(5.0))
    assert result.loc[1, "transition"] is None
    assert result.loc[2, "transition"] == "first"


def test_a_reliable_decline_joins_the_flags_in_sorted_order():
    result = history(level(6.5), (side(REL=5.6), side(REL=5.6, STR=3.5)))
    assert result.loc[2, "state"] == "dysfunctional"
    assert result.loc[2, "transition"] == "down"
    assert result.loc[2, "flags"] == ("reliable_decline", "strain_reported")


def test_changes_are_computed_per_dyad_in_wave_order():
    scores = scores_frame(
        (2, 2, side(REL=5.0), side(REL=5.0)),
        (1, 1, side(REL=5.0), side(REL=5.0)),
        (2, 1, GOOD, GOOD),
        (1, 2, GOOD, GOOD),
    )
    result = changes(place(dyad_values(scores)))
    assert list(result.index) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert list(result["transition"]) == ["first", "up", "first", "down"]
    assert result["change"].tolist()[1::2] == pytest.approx([1.0, -1.0])


# --- constants and versions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("min_answered_floor", 2),
        ("min_answered_fraction", 2 / 3),
        ("max_missing_subscales", 1),
        ("aligned_threshold", 1.07),
        ("cn_gap_threshold", 1.5),
        ("strain_cut", 3.0),
        ("dysfunctional_rel", 4.0),
        ("dysfunctional_psy", 4.0),
        ("relational_rel", 5.5),
        ("relational_psy", 5.0),
        ("relational_subscale_floor", 4.5),
        ("marginal_kram", 4.5),
        ("sem", 0.39),
        ("reliable_change_dyad", 0.76),
        ("reliable_change_respondent", 1.07),
        ("alert_days_before_close", 3),
    ],
)
def test_constants_default_to_the_design(name, default):
    assert Constants().as_dict()[name] == default


def test_the_default_rule_is_labelled_continuum_v1():
    assert RULE_VERSION == "continuum-v1"
    assert Constants().version_label == "continuum-v1"
    assert Constants.from_overrides({}).version_label == "continuum-v1"
    assert Constants.from_overrides({"strain_cut": 3}).version_label == "continuum-v1"


def test_overrides_are_labelled_by_a_hash_of_their_canonical_json():
    label = Constants.from_overrides({"strain_cut": 2.5, "alert_days_before_close": 5})
    digest = hashlib.sha256(b'{"alert_days_before_close":5,"strain_cut":2.5}').hexdigest()
    assert label.version_label == f"continuum-v1+{digest[:8]}"


def test_the_same_overrides_always_give_the_same_label():
    one = Constants.from_overrides({"sem": 0.5, "alert_days_before_close": 5})
    same = Constants.from_overrides({"alert_days_before_close": 5.0, "sem": 0.5})
    other = Constants.from_overrides({"sem": 0.51, "alert_days_before_close": 5})
    assert one.version_label == same.version_label != other.version_label
    assert one == same


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"strain_cutoff": 2.5}, "strain_cutoff"),
        ({"sem": "0.4"}, "sem"),
        ({"sem": None}, "sem"),
        ({"sem": True}, "sem"),
        ({"sem": float("nan")}, "sem"),
        ({"alert_days_before_close": 2.5}, "alert_days_before_close"),
        ({"strain_cut": -1}, "strain_cut"),
        ({"min_answered_fraction": 1.5}, "min_answered_fraction"),
    ],
)
def test_bad_overrides_are_refused_naming_the_constant(overrides, named):
    with pytest.raises(ValueError, match=named):
        Constants.from_overrides(overrides)


def test_constants_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Constants().sem = 0.5  # type: ignore[misc]


def test_program_overrides_change_the_placement():
    strained = side(STR=2.7)
    assert placement(strained, GOOD)["state"] == "relational"
    strict = Constants.from_overrides({"strain_cut": 2.5})
    assert placement(strained, GOOD, strict)["state"] == "dysfunctional"
    demanding = Constants.from_overrides({"relational_rel": 6.5})
    assert placement(GOOD, GOOD, demanding)["state"] == "traditional"


def test_compute_runs_the_whole_rule_and_records_the_version():
    items = pd.DataFrame(
        [
            (f"{code}-{n}", code[:3], code, False, 1, 7)
            for code in ("REL-LG", "PSY-RM")
            for n in (1, 2, 3)
        ]
        + [(f"STR-{n}", "STR", "STR", False, 1, 5) for n in (1, 2, 3)],
        columns=["item", "battery", "subscale", "reverse_keyed", "scale_min", "scale_max"],
    )
    answers = pd.DataFrame(
        [
            (r, 1, 1, role, item, value)
            for r, role, value in ((1, "mentor", 6.0), (2, "protege", 6.0))
            for item in items["item"]
            if not item.startswith("STR")
        ]
        + [(1, 1, 1, "mentor", "STR-1", 3.0), (1, 1, 1, "mentor", "STR-2", 3.0)],
        columns=["response", "dyad", "wave", "role", "item", "value"],
    )
    responses = pd.DataFrame(
        [(1, 1, 1, "mentor"), (2, 1, 1, "protege")], columns=["response", "dyad", "wave", "role"]
    )
    default = pipeline.score(answers, items, responses).dyads.loc[(1, 1)]
    assert (default["state"], default["rule_version"]) == ("dysfunctional", "continuum-v1")
    lenient = Constants.from_overrides({"strain_cut": 3.5})
    result = pipeline.score(answers, items, responses, constants=lenient).dyads.loc[(1, 1)]
    assert result["state"] == "relational"
    assert result["rule_version"] == lenient.version_label != "continuum-v1"


# --- alerts ------------------------------------------------------------------------------


def results_of(*dyad_waves: tuple) -> pd.DataFrame:
    return changes(place(dyad_values(scores_frame(*dyad_waves))))


def reasons(frame: pd.DataFrame) -> list[tuple[int, int, str]]:
    return list(frame.itertuples(index=False, name=None))


def test_alerts_list_every_reason_per_dyad_and_wave():
    results = results_of(
        (1, 1, GOOD, GOOD),
        (1, 2, side(REL=5.0, STR=3.5), side(REL=5.0)),
        (2, 1, side({"REL-CN": 6.0}), side({"REL-CN": 4.5})),
        (3, 1, GOOD, MISSING),
    )
    assert reasons(alerts(results)) == [
        (1, 2, "dysfunctional"),
        (1, 2, "strain_reported"),
        (1, 2, "reliable_decline"),
        (1, 2, "downward_transition"),
        (2, 1, "norms_incongruent"),
    ]


def test_a_downward_step_that_is_not_reliable_is_still_an_alert():
    results = results_of((1, 1, GOOD, GOOD), (1, 2, side(REL=5.4), side(REL=5.4)))
    assert reasons(alerts(results)) == [(1, 2, "downward_transition")]


@pytest.mark.parametrize(
    ("days", "alerted"), [(-1, False), (0, True), (2, True), (3, True), (4, False)]
)
def test_a_missing_partner_is_an_alert_when_the_wave_closes_within_3_days(days, alerted):
    results = results_of((1, 1, GOOD, MISSING), (2, 1, GOOD, GOOD))
    found = reasons(alerts(results, closes_in_days=pd.Series({1: days})))
    assert found == ([(1, 1, "partner_missing")] if alerted else [])


def test_partner_missing_counts_dyads_where_nobody_submitted_and_waits_for_the_dates():
    values = dyad_values(
        scores_frame((1, 1, GOOD, GOOD)), pairs=pd.DataFrame({"dyad": [2], "wave": [1]})
    )
    results = changes(place(values))
    assert reasons(alerts(results)) == []
    assert reasons(alerts(results, pd.Series({2: 1}))) == []  # wave 1 has no closing date
    assert reasons(alerts(results, pd.Series({1: 1}))) == [(2, 1, "partner_missing")]


def test_the_alert_window_is_a_program_constant():
    results = results_of((1, 1, GOOD, MISSING))
    wider = Constants.from_overrides({"alert_days_before_close": 5})
    assert reasons(alerts(results, pd.Series({1: 5}))) == []
    assert reasons(alerts(results, pd.Series({1: 5}), wider)) == [(1, 1, "partner_missing")]


def test_no_alerts_give_an_empty_frame_with_the_columns():
    empty = alerts(results_of((1, 1, GOOD, GOOD)))
    assert list(empty.columns) == ["dyad", "wave", "reason"] and empty.empty


def test_every_alert_reason_has_a_plain_sentence():
    assert set(ALERT_TEXT) == set(ALERT_REASONS)
    assert all(text.endswith(".") and "_" not in text for text in ALERT_TEXT.values())
