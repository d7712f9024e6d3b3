"""The program page compares its cohorts wave by wave (state shares, mean relational
score, response rate) from the kept counts, in a number of queries that does not grow
with the cohorts or their dyads."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import DyadWaveResult
from assessments.results import aggregates
from tests import factories
from tests.coordinate.builders import add_dyads, add_waves, fill_results, grow, result

pytestmark = pytest.mark.django_db


def program_page(client, cast):
    client.force_login(cast.coordinator)
    response = client.get(f"/coordinate/{cast.program.slug}/")
    assert response.status_code == 200
    return response


@pytest.fixture
def two_cohorts(cast):
    """This year's cohort at two waves and last year's at one, with known results."""
    waves = add_waves(cast.cohort, 2)
    silent = add_dyads(cast.cohort, 1)[0]
    earlier = factories.CohortFactory(
        program=cast.program, name="2025", slug="2025", started_on=dt.date(2025, 1, 1)
    )
    old_wave = add_waves(earlier, 1)[0]
    old_dyads = add_dyads(earlier, 2)
    DyadWaveResult.objects.bulk_create(
        [
            result(cast.dyad, waves[0], "relational"),
            result(cast.dyad, waves[1], "dysfunctional"),
            result(cast.other_dyad, waves[0], "relational"),
            result(cast.other_dyad, waves[1], "relational"),
            result(silent, waves[0], "traditional"),
            result(silent, waves[1], "unplaced"),
            result(old_dyads[0], old_wave, "traditional"),
            result(old_dyads[1], old_wave, "unplaced"),
        ]
    )
    return earlier


def test_cohorts_are_compared_wave_by_wave_oldest_first(client, cast, two_cohorts):
    history = program_page(client, cast).context["history"]
    assert [(number, [f.cohort.name for f in rows]) for number, rows in history] == [
        (1, ["2025", "2026"]),
        (2, ["2026"]),
    ]
    last_year, this_year = history[0][1]
    assert (last_year.expected, round(last_year.rate)) == (2, 75)
    assert last_year.mean_rel == pytest.approx(5.0)
    assert [round(share) for *_rest, share in last_year.states] == [0, 50, 0, 50]
    assert this_year.mean_rel == pytest.approx((6.0 + 6.0 + 5.0) / 3)
    (second,) = history[1][1]
    assert second.mean_rel == pytest.approx((3.5 + 6.0) / 2)
    assert round(second.rate) == 83


def test_the_page_shows_the_comparison_in_a_named_scrolling_region(client, cast, two_cohorts):
    text = program_page(client, cast).text
    assert "Cohorts over time" in text
    assert 'aria-label="Cohorts compared wave by wave" tabindex="0"' in text
    assert "css/report.css" in text
    assert "4.75" in text and "83 %" in text


def test_a_program_without_an_opened_wave_says_so(client, cast):
    assert "No cohort has an opened wave yet." in program_page(client, cast).text


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def add_cohort(cast, name: str, *, dyads: int, waves: int) -> None:
    cohort = factories.CohortFactory(program=cast.program, name=name, slug=name)
    add_dyads(cohort, dyads)
    fill_results(list(cohort.dyads.all()), add_waves(cohort, waves))
    aggregates.rebuild(cohort=cohort)


def test_the_program_page_makes_as_many_queries_for_three_cohorts_of_50_as_for_one_of_10(
    client, cast
):
    client.force_login(cast.coordinator)
    url = f"/coordinate/{cast.program.slug}/"
    grow(cast, dyads=10, waves=2)
    small = queries(client, url)
    grow(cast, dyads=50, waves=3)
    add_cohort(cast, "2027", dyads=50, waves=3)
    add_cohort(cast, "2028", dyads=50, waves=2)
    large = queries(client, url)
    history = client.get(url).context["history"]
    assert [len(rows) for _number, rows in history] == [3, 3, 2]
    assert large == small <= 8


def test_the_page_draws_one_line_per_cohort_from_the_same_figures(client, cast, two_cohorts):
    response = program_page(client, cast)
    (chart,) = response.context["charts"]
    lines = {trace["name"]: trace for trace in chart.figure["data"]}
    assert list(lines) == ["2025", "2026"]
    assert lines["2026"]["x"] == [1, 2]
    assert lines["2026"]["y"] == [round((6.0 + 6.0 + 5.0) / 3, 2), 4.75]
    assert chart.table.rows[0] == ["2025", "Wave 1", "5.00", 1]
    assert 'data-chart="chart-cohorts-data"' in response.text
    assert "plotly/plotly.min.js" in response.text


def test_a_cohort_name_never_reaches_the_figure_as_markup(client, cast, two_cohorts):
    two_cohorts.name = '<a href="https://evil.example">2025</a>'
    two_cohorts.save()
    (chart,) = program_page(client, cast).context["charts"]
    assert chart.figure["data"][0]["name"] == '&lt;a href="https://evil.example"&gt;2025&lt;/a&gt;'
