"""The dashboard figures are built from frames and checked without a browser."""

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessments.coordinate import charts, presenters
from assessments.measurement import rules

WORDS = presenters.chart_words()
CHARTS = Path(charts.__file__).parent

WAVES = pd.DataFrame({"wave": [1, 2, 3], "label": ["Wave 1", "Wave 2", "Wave 3"]})


def cohort_frame(states_by_dyad: dict[int, list[str]]) -> pd.DataFrame:
    """One row per dyad × wave with the given states; everyone submitted."""
    rows = [
        {
            "dyad": dyad,
            "code": f"D-{dyad:06d}",
            "wave": wave,
            "state": state,
            "mentor_submitted": True,
            "protege_submitted": state != "unplaced",
            "rel_mentor": 3.0 + wave,
            "rel_protege": 2.5 + wave if state != "unplaced" else np.nan,
        }
        for dyad, states in states_by_dyad.items()
        for wave, state in enumerate(states, start=1)
    ]
    return pd.DataFrame(rows)


def trajectory(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "wave": [1, 2, 3],
            "label": ["Wave 1", "Wave 2", "Wave 3"],
            "state": ["relational", "traditional", "dysfunctional"],
            "position": [80.0, 60.0, 40.0],
            "flags": [(), ("borderline",), ("reliable_decline", "strain_reported")],
            "rel_mentor": [5.8, 4.6, 3.4],
            "rel_protege": [5.8, 4.6, 3.4],
            "rel_dyad": [5.8, 4.6, 3.4],
            "psy_mentor": [5.5, 5.0, 3.5],
            "psy_protege": [5.5, 5.0, 3.5],
            "psy_dyad": [5.5, 5.0, 3.5],
            "str_mentor": [1.0, 1.5, 3.2],
            "str_protege": [1.0, 1.5, 3.2],
            "str_dyad": [1.0, 1.5, 3.2],
        }
    )
    return frame.assign(**overrides)


def trace_names(figure) -> list[str]:
    return [trace.name for trace in figure.data]


def empty_message(figure) -> str:
    return " ".join(annotation.text for annotation in figure.layout.annotations)


# --- shaping ---------------------------------------------------------------------------------


def test_state_counts_give_every_state_of_every_wave_including_zeros():
    frame = cohort_frame({1: ["relational", "relational"], 2: ["traditional", "dysfunctional"]})
    counts = charts.state_counts(frame, WAVES.head(2))
    assert len(counts) == 2 * 4
    wave_two = counts[counts["wave"] == 2].set_index("state")["n"].to_dict()
    assert wave_two == {"dysfunctional": 1, "traditional": 0, "relational": 1, "unplaced": 0}


def test_transition_counts_pair_each_dyad_with_its_next_wave():
    frame = cohort_frame(
        {
            1: ["traditional", "relational", "relational"],
            2: ["traditional", "relational", "dysfunctional"],
            3: ["dysfunctional", "traditional", "traditional"],
        }
    )
    links = charts.transition_counts(frame)
    as_tuples = set(links.itertuples(index=False, name=None))
    assert ("traditional", "relational") not in as_tuples
    assert (1, "traditional", 2, "relational", 2) in as_tuples
    assert (1, "dysfunctional", 2, "traditional", 1) in as_tuples
    assert (2, "relational", 3, "dysfunctional", 1) in as_tuples
    assert links.groupby("wave_from")["n"].sum().tolist() == [3, 3]


def test_transition_counts_are_empty_with_a_single_wave():
    assert charts.transition_counts(cohort_frame({1: ["relational"]})).empty


def test_response_rates_are_percent_of_the_expected_dyads():
    frame = cohort_frame({1: ["relational"], 2: ["unplaced"], 3: ["traditional"], 4: ["unplaced"]})
    rates = charts.response_rates(frame, WAVES.head(1)).iloc[0]
    assert (rates["expected"], rates["mentors"], rates["proteges"]) == (4, 4, 2)
    assert rates["mentor_rate"] == 100 and rates["protege_rate"] == 50 and rates["rate"] == 75


def test_a_wave_without_dyads_has_no_rate_rather_than_zero():
    rates = charts.response_rates(cohort_frame({1: ["relational"]}), WAVES.head(2))
    assert rates["expected"].tolist() == [1, 0]
    assert np.isnan(rates["rate"].iloc[1])


@pytest.mark.parametrize(("rel", "position"), [(1.0, 0.0), (4.0, 50.0), (5.5, 75.0), (7.0, 100.0)])
def test_rel_maps_onto_the_continuum_axis_like_the_stored_position(rel, position):
    assert charts.rel_to_position(rel) == pytest.approx(position)


def test_band_edges_follow_the_placement_cuts():
    assert charts.band_edges() == pytest.approx((50.0, 75.0))
    assert charts.band_edges(3.4, 6.1) == pytest.approx((40.0, 85.0))


# --- cohort figures --------------------------------------------------------------------------


def test_state_distribution_stacks_one_bar_trace_per_state_in_its_colour():
    frame = cohort_frame({1: ["relational", "dysfunctional"], 2: ["traditional", "unplaced"]})
    figure = charts.state_distribution_figure(charts.state_counts(frame, WAVES.head(2)), WORDS)
    assert figure.layout.barmode == "stack"
    assert trace_names(figure) == ["Dysfunctional", "Traditional", "Relational", "Not yet placed"]
    colours = {trace.name: trace.marker.color for trace in figure.data}
    assert colours == {
        "Dysfunctional": "#b02a37",
        "Traditional": "#8a6d00",
        "Relational": "#146c43",
        "Not yet placed": "#6c757d",
    }
    relational = figure.data[2]
    assert list(relational.x) == [1, 2] and list(relational.y) == [1, 0]
    assert list(figure.layout.xaxis.ticktext) == ["Wave 1", "Wave 2"]


def test_figures_use_no_plotly_template_and_take_translated_words():
    frame = cohort_frame({1: ["relational"]})
    words = {**WORDS, "relational": "Relationnel", "wave": "Vague"}
    figure = charts.state_distribution_figure(charts.state_counts(frame, WAVES.head(1)), words)
    data = charts.figure_data(figure)
    assert data["layout"]["template"] == {"data": {"scatter": [{"type": "scatter"}]}}
    assert "Relationnel" in trace_names(figure)
    assert figure.layout.xaxis.title.text == "Vague"


def test_sankey_has_a_node_per_wave_and_state_and_links_coloured_by_origin():
    frame = cohort_frame(
        {
            1: ["traditional", "relational"],
            2: ["traditional", "dysfunctional"],
            3: ["relational"] * 2,
        }
    )
    links = charts.transition_counts(frame)
    figure = charts.transitions_figure(links, WAVES.head(2), WORDS)
    sankey = figure.data[0]
    assert sankey.type == "sankey"
    assert list(sankey.node.label) == [
        "Traditional",  # wave 1, two dyads
        "Relational",  # wave 1
        "Dysfunctional",  # wave 2
        "Relational",  # wave 2, two dyads
    ]
    assert list(sankey.node.customdata) == ["Wave 1", "Wave 1", "Wave 2", "Wave 2"]
    assert sum(sankey.link.value) == 3
    assert sankey.node.y[0] > 0.04 and sankey.node.y[0] < sankey.node.y[1]
    assert all(0 < x < 1 for x in sankey.node.x)
    origin = links["state_from"].tolist()
    assert sankey.link.color[origin.index("traditional")] == "rgba(138,109,0,0.35)"
    assert [a.text for a in figure.layout.annotations] == ["Wave 1", "Wave 2"]


def test_sankey_explains_itself_when_there_is_nothing_to_link():
    figure = charts.transitions_figure(
        charts.transition_counts(cohort_frame({1: ["relational"]})), WAVES, WORDS
    )
    assert not figure.data
    assert "two waves" in empty_message(figure)


def test_agreement_scatter_has_the_identity_line_and_equal_axes_on_the_rel_scale():
    frame = cohort_frame({1: ["relational"], 2: ["dysfunctional"], 3: ["relational"]})
    figure = charts.agreement_figure(frame, WORDS)
    line = figure.layout.shapes[0]
    assert (line.type, line.x0, line.y0, line.x1, line.y1) == ("line", 1, 1, 7, 7)
    assert list(figure.layout.xaxis.range) == [0.8, 7.2] == list(figure.layout.yaxis.range)
    assert figure.layout.yaxis.scaleanchor == "x"
    assert trace_names(figure) == ["Dysfunctional", "Relational"]
    relational = figure.data[1]
    assert list(relational.text) == ["D-000001", "D-000003"]
    assert relational.marker.color == "#146c43"


def test_agreement_scatter_leaves_out_dyads_missing_a_partner_score():
    frame = cohort_frame({1: ["unplaced"], 2: ["traditional"]})
    figure = charts.agreement_figure(frame, WORDS)
    assert trace_names(figure) == ["Traditional"]
    only_unplaced = charts.agreement_figure(cohort_frame({1: ["unplaced"]}), WORDS)
    assert not only_unplaced.data and "No results" in empty_message(only_unplaced)


def test_response_rate_chart_shows_both_roles_on_a_percent_axis():
    frame = cohort_frame({1: ["relational"], 2: ["unplaced"]})
    figure = charts.response_rate_figure(charts.response_rates(frame, WAVES.head(1)), WORDS)
    assert trace_names(figure) == ["Mentors", "Protégés"]
    assert list(figure.layout.yaxis.range) == [0, 100]
    assert [list(trace.y) for trace in figure.data] == [[100.0], [50.0]]
    assert list(figure.data[1].customdata[0]) == ["Wave 1", 1, 2]


# --- dyad figures ----------------------------------------------------------------------------


def test_trajectory_shades_the_three_bands_at_the_placement_cuts():
    figure = charts.trajectory_figure(trajectory(), WORDS, charts.band_edges())
    bands = [(s.name, s.y0, s.y1, s.fillcolor) for s in figure.layout.shapes]
    assert bands == [
        ("dysfunctional", 0.0, 50.0, "#b02a37"),
        ("traditional", 50.0, 75.0, "#8a6d00"),
        ("relational", 75.0, 100.0, "#146c43"),
    ]
    assert all(s.layer == "below" and s.xref == "paper" for s in figure.layout.shapes)
    assert list(figure.layout.yaxis.range) == [0, 100]
    assert list(figure.layout.xaxis.range) == [0.5, 3.5]


def test_trajectory_draws_each_partner_and_the_dyad_on_the_same_axis():
    frame = trajectory(rel_mentor=[7.0, 4.0, 1.0], rel_protege=[5.5, 5.5, np.nan])
    figure = charts.trajectory_figure(frame, WORDS)
    assert trace_names(figure) == ["Mentor REL", "Protégé REL", "Dyad"]
    mentor, protege, dyad = figure.data
    assert list(mentor.y) == [100.0, 50.0, 0.0]
    assert list(protege.y) == [75.0, 75.0, None]  # a gap, not a drop to zero
    assert list(dyad.y) == [80.0, 60.0, 40.0]
    assert list(dyad.marker.color) == ["#146c43", "#8a6d00", "#b02a37"]


def test_trajectory_hover_names_the_scores_and_flags():
    unlabelled = {key: word for key, word in WORDS.items() if key not in rules.FLAGS}
    dyad = charts.trajectory_figure(trajectory(), unlabelled).data[2]
    last = dyad.hovertext[2]
    assert "State: Dysfunctional" in last
    assert "REL: Mentor 3.40 · Protégé 3.40 · Dyad 3.40" in last
    assert "STR: Mentor 3.20" in last
    assert "Flags: Reliable decline" not in last and "reliable_decline, strain_reported" in last
    assert "Flags: none" in dyad.hovertext[0]


def test_trajectory_hover_uses_the_given_flag_labels():
    dyad = charts.trajectory_figure(trajectory(), WORDS).data[2]
    assert "Flags: Reliable decline, Strain reported" in dyad.hovertext[2]


def test_trajectory_without_any_score_keeps_the_bands_and_says_so():
    empty = trajectory(position=[np.nan] * 3, rel_mentor=[np.nan] * 3, rel_protege=[np.nan] * 3)
    figure = charts.trajectory_figure(empty, WORDS)
    assert not figure.data
    assert len(figure.layout.shapes) == 3
    assert "No results" in empty_message(figure)


def test_profile_shows_both_partners_on_the_one_to_seven_scale():
    profile = pd.DataFrame(
        {
            "subscale": ["REL-LG", "REL-CN"],
            "title": ["Learning and growth", "Communal norms"],
            "mentor": [5.67, 4.0],
            "protege": [6.0, np.nan],
        }
    )
    figure = charts.profile_figure(profile, WORDS)
    assert trace_names(figure) == ["Mentor", "Protégé"]
    assert list(figure.layout.xaxis.range) == [1, 7]
    assert figure.data[0].orientation == "h"
    assert list(figure.data[1].x) == [6.0, None]
    assert list(figure.data[0].y) == ["Learning and growth", "Communal norms"]


def test_profile_without_scores_says_so():
    empty = pd.DataFrame(columns=["subscale", "title", "mentor", "protege"])
    figure = charts.profile_figure(empty, WORDS)
    assert not figure.data and "No results" in empty_message(figure)


def test_figure_data_is_strict_json_with_null_for_missing_values():
    frame = trajectory(rel_protege=[5.5, np.nan, np.nan], position=[80.0, np.nan, 40.0])
    data = charts.figure_data(charts.trajectory_figure(frame, WORDS))
    text = json.dumps(data, allow_nan=False)
    assert "NaN" not in text
    assert data["data"][2]["y"] == [80.0, None, 40.0]


# --- the package stays pure and shares the product's names ------------------------------------


@pytest.mark.parametrize("module", sorted(CHARTS.glob("*.py")), ids=lambda path: path.name)
def test_the_chart_builders_import_nothing_from_django(module):
    tree = ast.parse(module.read_text())
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name.split(".")[0] == "django"]


def test_the_charts_show_every_state_of_the_rules_worst_first():
    assert set(charts.STATES) == set(rules.STATES)
    assert charts.STATES[:3] == ("dysfunctional", "traditional", "relational")


def test_the_chart_wording_names_every_state_and_flag():
    assert set(rules.STATES) | set(rules.FLAGS) <= set(WORDS)
    assert set(presenters.FLAG_LABELS) == set(rules.FLAGS)
