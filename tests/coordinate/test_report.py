"""The printable cohort report: what it shows (the dashboard's figures as tables), that it
is made for print, who may open it, and that its queries do not grow with the cohort."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.coordinate.builders import (
    backsliding_scene,
    cohort_url,
    grow,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(cast):
    """Two closed waves: a backsliding dyad, a steady relational one, a silent partner."""
    return backsliding_scene(cast)


def report_of(client, cast, query: str = ""):
    client.force_login(cast.coordinator)
    response = client.get(cohort_url(cast, f"report/{query}"))
    assert response.status_code == 200
    return response


def test_the_headline_is_the_dashboards(client, cast, scene):
    report = report_of(client, cast).context["report"]
    dashboard = client.get(cohort_url(cast)).context["dashboard"]
    assert report.headline == dashboard.headline
    assert report.wave == scene.waves[1]
    assert (report.dyads, report.active) == (3, 3)


def test_each_wave_has_its_states_response_rate_and_mean_relational_score(client, cast, scene):
    first, second = report_of(client, cast).context["report"].figures
    assert [(s, n) for s, _label, n, _share in second.states] == [
        ("dysfunctional", 1), ("traditional", 0), ("relational", 1), ("unplaced", 1),
    ]  # fmt: skip
    assert [round(share) for *_rest, share in second.states] == [33, 0, 33, 33]
    assert round(second.rate) == 83  # five of six partners submitted
    assert second.mean_rel == pytest.approx((3.5 + 6.0) / 2)
    assert first.mean_rel == pytest.approx((6.0 + 6.0 + 5.0) / 3)
    assert (first.rate, first.rel_n, second.rel_n) == (100, 3, 2)


def test_the_report_lists_movement_rates_agreement_and_open_alerts(client, cast, scene):
    response = report_of(client, cast)
    report = response.context["report"]
    assert ["Wave 1", "Relational", "Wave 2", "Dysfunctional", 1] in report.movement.rows
    assert [row[0] for row in report.rates.rows] == ["Wave 1", "Wave 2"]
    alerts = {row[0]: row[1:] for row in report.alerts.rows}
    assert alerts["Dysfunctional placement"] == [0, 1]
    assert alerts["Strain reported"] == [0, 1]
    assert alerts["Moved down the continuum"] == [0, 1]
    assert alerts["Partner has not submitted"] == [0, 0]  # both waves closed long ago
    assert alerts["All reasons"] == [0, 4]
    for heading in ("States per wave", "Movement between waves", "Response rates", "Open alerts"):
        assert heading in response.text


def test_the_report_follows_the_chosen_wave(client, cast, scene):
    report = report_of(client, cast, "?wave=1").context["report"]
    assert report.wave == scene.waves[0]
    assert dict((s, n) for s, _label, n in report.headline.states)["traditional"] == 1


def test_the_report_is_made_for_print_and_draws_no_script_chart(client, cast, scene):
    text = report_of(client, cast).text
    assert "css/report.css" in text
    assert "plotly" not in text
    assert 'role="region"' in text and 'tabindex="0"' in text
    assert "no individual answers" in text


def test_the_dashboard_and_the_program_page_link_the_report(client, cast, scene):
    client.force_login(cast.coordinator)
    assert 'href="/coordinate/bridges/2026/report/?wave=2"' in client.get(cohort_url(cast)).text
    assert 'href="/coordinate/bridges/2026/report/"' in client.get("/coordinate/bridges/").text


def test_only_the_programs_coordinators_open_the_report(client, cast, scene):
    for outsider in (cast.other_coordinator, cast.mentor.user):
        client.force_login(outsider)
        assert client.get(cohort_url(cast, "report/")).status_code == 404
    client.force_login(cast.admin)
    assert client.get(cohort_url(cast, "report/")).status_code == 200


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_report_makes_as_many_queries_for_50_dyads_as_for_10(client, cast):
    client.force_login(cast.coordinator)
    urls = [cohort_url(cast, "report/"), cohort_url(cast, "report/?wave=1")]
    grow(cast, dyads=10, waves=3)
    small = [queries(client, url) for url in urls]
    grow(cast, dyads=50, waves=3)
    assert [queries(client, url) for url in urls] == small
    assert max(small) <= 8
