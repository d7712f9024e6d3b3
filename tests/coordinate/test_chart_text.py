"""Text from the data (wave labels, dyad codes, subscale names) is plain text in every
figure: plotly.js reads ``<a href>``, ``<b>``, ``<br>`` in any text as markup, so a
hostile wave label must reach the page with no tag left in it."""

import json

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from assessments.coordinate import charts, presenters
from assessments.models import Subscale, Wave
from tests.coordinate.builders import grow
from tests.coordinate.test_charts import cohort_frame, trajectory

WORDS = presenters.chart_words()
HOSTILE = 'W1 <a href="https://evil.example">Click here</a>'
WAVES = pd.DataFrame({"wave": [1, 2], "label": [HOSTILE, "<b>W2</b> & more"]})


def hostile_cohort() -> pd.DataFrame:
    frame = cohort_frame({1: ["relational", "traditional"], 2: ["traditional", "dysfunctional"]})
    return frame.assign(code=frame["code"] + '<a href="https://evil.example">x</a>')


def every_figure():
    frame = hostile_cohort()
    profile = pd.DataFrame(
        {
            "subscale": ['REL-<a href="https://evil.example">LG</a>'],
            "title": ['<a href="https://evil.example">Learning</a>'],
            "mentor": [5.0],
            "protege": [np.nan],
        }
    )
    return {
        "states": charts.state_distribution_figure(charts.state_counts(frame, WAVES), WORDS),
        "transitions": charts.transitions_figure(charts.transition_counts(frame), WAVES, WORDS),
        "agreement": charts.agreement_figure(frame, WORDS),
        "rates": charts.response_rate_figure(charts.response_rates(frame, WAVES), WORDS),
        "trajectory": charts.trajectory_figure(
            trajectory().head(2).assign(label=WAVES["label"]), WORDS
        ),
        "profile": charts.profile_figure(profile, WORDS),
    }


@pytest.mark.parametrize("name", list(every_figure()))
def test_a_hostile_label_leaves_no_tag_in_the_figure_data(name):
    text = json.dumps(charts.figure_data(every_figure()[name]))
    assert "evil.example" in text  # still shown, as text
    assert "<a" not in text.lower() and "<b>w2" not in text.lower()


@pytest.mark.parametrize("name", list(every_figure()))
def test_the_figures_own_hover_markup_survives(name):
    text = json.dumps(charts.figure_data(every_figure()[name]))
    assert "<br>" in text or "<extra></extra>" in text


def test_plain_text_writes_each_markup_character_as_an_entity():
    assert charts.plain_text('<a href="x">R&D</a>') == '&lt;a href="x"&gt;R&amp;D&lt;/a&gt;'
    assert charts.plain_text("&lt;") == "&amp;lt;"  # typed entities stay as typed
    assert charts.plain_text(3) == "3"


def test_the_wave_axis_shows_the_label_as_typed_once_plotly_decodes_it():
    data = charts.figure_data(every_figure()["states"])
    shown = 'W1 &lt;a href="https://evil.example"&gt;Click here&lt;/a&gt;'
    assert data["layout"]["xaxis"]["ticktext"][0] == shown


@pytest.mark.django_db
def test_the_dashboard_and_dyad_page_embed_no_tag_from_a_wave_label(client, cast):
    grow(cast, dyads=4, waves=2)
    Wave.objects.filter(cohort=cast.cohort, number=1).update(label=HOSTILE)
    Subscale.objects.filter(code="REL-LG").update(title='<a href="https://evil.example">LG</a>')
    client.force_login(cast.coordinator)
    where = [cast.program.slug, cast.cohort.slug]
    dashboard = client.get(reverse("coordinate:cohort", args=where))
    detail = client.get(reverse("coordinate:dyad", args=[*where, cast.dyad.research_code]))
    figures = [chart.figure for chart in dashboard.context["dashboard"].charts]
    figures += [chart.figure for chart in detail.context["charts"]]
    text = json.dumps(figures)
    assert text.count("evil.example") >= 4 and "<a" not in text.lower()
