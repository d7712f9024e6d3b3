"""On a phone the figures draw a narrow layout that keeps their labels apart; it travels in
``layout.meta.narrow`` and static/js/charts.js merges it in below its width. The labels'
boxes themselves are measured in Chromium by tests/browser/test_phone_layout.py."""

import json

import pandas as pd

from assessments.coordinate import charts
from assessments.coordinate.charts.base import NARROW_BELOW
from tests.coordinate.test_charts import WAVES, WORDS, cohort_frame, trajectory

PROFILE = pd.DataFrame(
    {
        "subscale": ["REL-LG", "REL-AF"],
        "title": ["Learning and growth", "Affirmation of the best and authentic self"],
        "mentor": [5.5, 6.0],
        "protege": [6.0, 5.0],
    }
)


def narrow_of(figure) -> dict:
    return charts.figure_data(figure)["layout"]["meta"]["narrow"]


def sankey():
    frame = cohort_frame({1: ["traditional", "relational"], 2: ["traditional", "relational"]})
    return charts.transitions_figure(charts.transition_counts(frame), WAVES.head(2), WORDS)


def test_the_narrow_sankey_leaves_nodes_unlabelled_and_names_the_states_in_a_colour_key():
    figure = sankey()
    narrow = narrow_of(figure)
    assert narrow["below"] == NARROW_BELOW
    node = narrow["data"][0]["node"]
    assert node["label"] == ["", ""]  # wave 1 traditional, wave 2 relational
    assert node["hovertemplate"][0] == "%{customdata}: Traditional<br>%{value}<extra></extra>"
    texts = [a["text"] for a in narrow["layout"]["annotations"]]
    assert texts == ["Wave 1", "Wave 2", "■ Traditional", "■ Relational"]
    colours = [a["font"]["color"] for a in narrow["layout"]["annotations"][2:]]
    assert colours == [charts.STATE_COLOURS["traditional"], charts.STATE_COLOURS["relational"]]
    assert list(figure.data[0].node.label)[0] == "Traditional"  # wide screens keep them


def test_the_narrow_sankey_key_takes_a_row_for_every_two_states():
    frame = cohort_frame(
        {1: ["traditional", "relational"], 2: ["dysfunctional", "unplaced"], 3: ["relational"] * 2}
    )
    figure = charts.transitions_figure(charts.transition_counts(frame), WAVES.head(2), WORDS)
    key = narrow_of(figure)["layout"]["annotations"][2:]
    assert [(a["x"], a["yshift"]) for a in key] == [(0, 0), (0.5, 0), (0, -20), (0.5, -20)]
    assert narrow_of(figure)["layout"]["margin"]["b"] == 16 + 2 * 20


def test_the_narrow_trajectory_sets_the_band_names_upright_beside_the_plot():
    figure = charts.trajectory_figure(trajectory(), WORDS)
    narrow = narrow_of(figure)["layout"]
    assert [a["text"] for a in narrow["annotations"]] == [
        "Dysfunctional",
        "Traditional",
        "Relational",
    ]
    assert {(a["x"], a["xanchor"], a["textangle"]) for a in narrow["annotations"]} == {
        (1, "left", -90)
    }
    assert narrow["margin"]["r"] > figure.layout.margin.r


def test_the_narrow_profile_puts_each_title_above_its_bars():
    figure = charts.profile_figure(PROFILE, WORDS)
    narrow = narrow_of(figure)["layout"]
    assert narrow["yaxis"]["showticklabels"] is False
    titles = [(a["text"], a["x"], a["xanchor"]) for a in narrow["annotations"]]
    assert titles == [(title, 0, "left") for title in PROFILE["title"]]
    tops = [a["y"] for a in narrow["annotations"]]
    assert tops[0] < 0 < tops[1] < 1  # just above the first and the second pair of bars
    assert narrow["yaxis"]["range"][1] < tops[0]  # and the first title is inside the plot


def test_a_figure_with_nothing_to_draw_has_no_narrow_layout_to_hide_its_message():
    empty = PROFILE.iloc[0:0]
    assert "meta" not in charts.figure_data(charts.profile_figure(empty, WORDS))["layout"]


def test_a_hostile_title_stays_plain_text_in_the_narrow_layout():
    hostile = PROFILE.assign(title=['<a href="https://evil.example">Learning</a>', "Plain"])
    text = json.dumps(narrow_of(charts.profile_figure(hostile, WORDS)))
    assert "evil.example" in text and "<a" not in text
