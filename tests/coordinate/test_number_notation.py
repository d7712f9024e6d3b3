"""Numbers written for people on coordinator pages read as the page's language writes
them (4,0 in French and Spanish, 4.0 in English); the figures' data stay numbers."""

import re

import pandas as pd
import pytest
from django.conf import settings
from django.utils import translation

from assessments.coordinate import presenters
from tests.coordinate.builders import backsliding_scene, cohort_url

pytestmark = pytest.mark.django_db


def dyad_page(client, cast, language: str):
    scene = backsliding_scene(cast)
    client.force_login(cast.coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(cohort_url(cast, f"dyads/{scene.falling.research_code}/"))
    assert response.status_code == 200
    return response


def test_a_french_dyad_page_writes_its_caption_and_scores_with_a_decimal_comma(client, cast):
    response = dyad_page(client, cast, "fr")
    trajectory = response.context["detail"].trajectory
    assert re.search(r"\(4,0 .+ 5,5\)", trajectory.caption), trajectory.caption
    assert "4.0" not in trajectory.caption and "5.5" not in trajectory.caption
    page = response.content.decode()
    assert "4,0" in page and "3,50" in page  # the caption and the scores table
    assert trajectory.figure["layout"]["separators"].startswith(",")


def test_an_english_dyad_page_keeps_the_decimal_point(client, cast):
    trajectory = dyad_page(client, cast, "en").context["detail"].trajectory
    assert "(4.0 and 5.5)" in trajectory.caption
    assert trajectory.figure["layout"]["separators"].startswith(".")


def test_the_figures_data_stay_numbers_in_french(client, cast):
    trajectory = dyad_page(client, cast, "fr").context["detail"].trajectory
    dyad_line = trajectory.figure["data"][2]
    assert all(isinstance(y, int | float) for y in dyad_line["y"] if y is not None)
    assert "REL:" in dyad_line["hovertext"][0] and "6,00" in dyad_line["hovertext"][0]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "3.46"), ("es", "3,46"), ("fr", "3,46")],
)
def test_a_number_is_rounded_then_written_in_the_language(language, expected):
    with translation.override(language):
        assert presenters.number(3.456) == expected
        assert presenters.number(None) == "–"
        assert presenters.percent(12.6) == "13 %"


def test_the_agreement_caption_writes_pearson_r_in_the_language():
    points = pd.DataFrame(columns=["state", "rel_mentor", "rel_protege", "n"])
    by_state = pd.DataFrame(columns=["state", "n", "rel_mentor", "rel_protege"])
    with translation.override("fr"):
        words = presenters.chart_words()
        chart = presenters.agreement_chart(points, "Vague 2", by_state, (12, 0.4567), words)
    assert "0,46" in chart.caption and "0.46" not in chart.caption
