"""Coordinator dashboards: who may see them, what they show, and that their query
counts do not grow with the number of dyads or waves."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import AlertFollowUp, DyadWaveResult, OpenAlert
from assessments.results import aggregates
from relationships.models import Dyad
from tests import factories
from tests.coordinate.builders import (
    add_waves,
    backsliding_scene,
    cohort_url,
    grow,
)

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def page_urls(cast) -> list[str]:
    code = cast.dyad.research_code
    return [
        f"/coordinate/{cast.program.slug}/",
        cohort_url(cast),
        cohort_url(cast, "?state=dysfunctional&sort=-change&q=Person"),
        cohort_url(cast, "?flag=reliable_decline&response=both&page=2"),
        cohort_url(cast, "alerts/"),
        cohort_url(cast, "alerts/?show=followed"),
        cohort_url(cast, f"dyads/{code}/"),
        cohort_url(cast, "psychometrics/"),
        cohort_url(cast, "manage/"),
    ]


# --- permissions ---------------------------------------------------------------------------


DASHBOARDS = ["", "alerts/", "psychometrics/", "dyads/{code}/"]
MANAGEMENT = [
    "manage/",
    "manage/waves/new/",
    "manage/waves/1/",
    "manage/dyads/new/",
    "manage/dyads/import/",
]
PAGES = DASHBOARDS + MANAGEMENT
# Every write, with a valid-looking body; participants are refused before it is read.
WRITES = [
    ("alerts/follow-up/", {"dyad": "{code}", "wave": 2, "reason": "dysfunctional", "note": "x"}),
    ("manage/waves/new/", {"label": "x"}),
    ("manage/waves/2/invite/", {}),
    ("manage/waves/2/remind/", {}),
    ("manage/dyads/import/", {"csv_text": "mentor_email"}),
    ("dyads/{code}/remind/", {"wave": 2, "role": "mentor"}),
    ("dyads/{code}/end/", {"ended_on": "2026-01-01"}),
]


@pytest.fixture
def small(cast):
    return grow(cast, dyads=4, waves=2)


@pytest.mark.parametrize("tail", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, cast, small, tail):
    response = client.get(cohort_url(cast, tail.format(code=cast.dyad.research_code)))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("tail", DASHBOARDS)
@pytest.mark.parametrize("who", ["mentor", "outsider"])
def test_participants_get_404_on_coordinator_pages(client, cast, small, tail, who):
    client.force_login(getattr(cast, who).user)
    assert (
        client.get(cohort_url(cast, tail.format(code=cast.dyad.research_code))).status_code == 404
    )


@pytest.mark.parametrize("tail", MANAGEMENT)
@pytest.mark.parametrize("who", ["mentor", "outsider"])
def test_participants_get_403_on_management_pages(client, cast, small, tail, who):
    client.force_login(getattr(cast, who).user)
    assert client.get(cohort_url(cast, tail)).status_code == 403
    assert client.get(f"/coordinate/{cast.program.slug}/cohorts/new/").status_code == 403


@pytest.mark.parametrize(("tail", "data"), WRITES)
def test_participants_get_403_on_every_write_and_nothing_changes(client, cast, small, tail, data):
    client.force_login(cast.mentor.user)
    code = cast.dyad.research_code
    body = {key: str(value).format(code=code) for key, value in data.items()}
    before = (DyadWaveResult.objects.count(), Dyad.objects.filter(is_active=True).count())
    assert client.post(cohort_url(cast, tail.format(code=code)), body).status_code == 403
    assert (DyadWaveResult.objects.count(), Dyad.objects.filter(is_active=True).count()) == before


def test_a_participant_gets_403_even_for_a_program_that_does_not_exist(client, cast):
    client.force_login(cast.mentor.user)
    assert client.get("/coordinate/nowhere/nothing/manage/").status_code == 403


@pytest.mark.parametrize("tail", PAGES)
def test_a_coordinator_of_another_program_gets_404(client, cast, small, tail):
    client.force_login(cast.other_coordinator)
    assert (
        client.get(cohort_url(cast, tail.format(code=cast.dyad.research_code))).status_code == 404
    )


@pytest.mark.parametrize("tail", PAGES)
@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_the_programs_coordinator_and_admins_see_every_page(client, cast, small, tail, who):
    client.force_login(getattr(cast, who))
    assert (
        client.get(cohort_url(cast, tail.format(code=cast.dyad.research_code))).status_code == 200
    )


def test_the_program_list_shows_only_the_coordinators_own_programs(client, cast):
    client.force_login(cast.coordinator)
    page = client.get("/coordinate/").content.decode()
    assert "Bridges" in page and "Elsewhere" not in page
    assert client.get(f"/coordinate/{cast.other_program.slug}/").status_code == 404


def test_a_participant_has_no_program_list(client, cast):
    client.force_login(cast.mentor.user)
    assert client.get("/coordinate/").status_code == 404


def test_a_dyad_of_another_cohort_is_not_found_under_this_one(client, cast, small):
    elsewhere = factories.DyadFactory(cohort=factories.CohortFactory(program=cast.program))
    client.force_login(cast.coordinator)
    assert client.get(cohort_url(cast, f"dyads/{elsewhere.research_code}/")).status_code == 404


# --- query counts --------------------------------------------------------------------------


def test_every_page_makes_as_many_queries_for_200_dyads_as_for_10(client, cast):
    client.force_login(cast.coordinator)
    grow(cast, dyads=10, waves=2)
    small_counts = [queries(client, url) for url in page_urls(cast)]
    grow(cast, dyads=200, waves=6)
    large_counts = [queries(client, url) for url in page_urls(cast)]
    assert large_counts == small_counts
    assert max(large_counts) <= 12


def test_dashboard_and_alerts_make_as_many_queries_at_200_dyads_as_at_10_with_alerts_open(
    client, cast
):
    """An open wave closing soon (partner-missing alerts), a follow-up, every list page."""
    client.force_login(cast.coordinator)
    urls = [cohort_url(cast, tail) for tail in DASHBOARD_AND_ALERTS]

    def counts(dyads: int) -> list[int]:
        grow(cast, dyads=dyads, waves=3)
        add_waves(cast.cohort, 3, open_last=True)
        aggregates.rebuild(cohort=cast.cohort)
        return [queries(client, url) for url in urls]

    counts(10)
    # One alert followed up before either count, so the followed-up list has a row at
    # both sizes (an empty page costs one query less, whatever the size).
    alert = OpenAlert.objects.filter(cohort=cast.cohort, timed=False).order_by("pk").first()
    follow_up = {"dyad": alert.code, "wave": alert.wave_number, "reason": alert.reason}
    client.post(cohort_url(cast, "alerts/follow-up/"), {**follow_up, "note": "Phoned."})
    assert AlertFollowUp.objects.filter(dyad_id=alert.dyad_id).exists()
    small = counts(10)
    assert counts(200) == small
    assert max(small) <= 10


DASHBOARD_AND_ALERTS = [
    "", "?wave=2", "?sort=-state&page=2", "alerts/", "alerts/?page=2", "alerts/?show=followed",
    "alerts/?wave=3&reason=partner_missing",
]  # fmt: skip


def test_the_agreement_chart_draws_groups_of_dyads_not_every_dyad(client, cast):
    grow(cast, dyads=120, waves=2)
    chart = dashboard(client, cast).context["dashboard"].charts[3]
    points = [
        (x, y, text) for trace in chart.figure["data"]
        for x, y, text in zip(trace["x"], trace["y"], trace["text"], strict=True)
    ]  # fmt: skip
    placed = DyadWaveResult.objects.filter(
        wave__number=2, rel_mentor__isnull=False, rel_protege__isnull=False
    ).count()
    assert len(points) < placed
    assert sum(int(text.split(": ")[1]) for _x, _y, text in points) == placed
    assert all((4 * x).is_integer() and (4 * y).is_integer() for x, y, _text in points)


def test_pages_are_sent_uncompressed_and_weigh_the_same_at_200_dyads_as_at_10(client, cast):
    """No compression of pages holding CSRF tokens beside reflected text (BREACH); the
    HTML is bounded by what the page shows instead: 50 rows, charts of counts."""
    client.force_login(cast.coordinator)

    def sizes(dyads: int) -> list[int]:
        grow(cast, dyads=dyads, waves=2)
        pages = [
            client.get(cohort_url(cast, t), HTTP_ACCEPT_ENCODING="gzip, br")
            for t in ("", "alerts/")
        ]
        assert all("Content-Encoding" not in page for page in pages)
        return [len(page.content) for page in pages]

    small, large = sizes(60), sizes(200)
    assert all(big < 1.1 * little for big, little in zip(large, small, strict=True))


def test_the_cohort_dashboard_stays_within_its_query_budget(
    client, cast, django_assert_max_num_queries
):
    grow(cast, dyads=120, waves=4)
    client.force_login(cast.coordinator)
    with django_assert_max_num_queries(11):
        assert client.get(cohort_url(cast)).status_code == 200


# --- what the dashboard shows ------------------------------------------------------------


@pytest.fixture
def scene(cast):
    """Two closed waves: a backsliding dyad, a steady relational one, a silent partner."""
    return backsliding_scene(cast)


def dashboard(client, cast, query: str = ""):
    client.force_login(cast.coordinator)
    response = client.get(cohort_url(cast, query))
    assert response.status_code == 200
    return response


def codes_in(response) -> list[str]:
    return [row["research_code"] for row in response.context["dashboard"].page.object_list]


def test_the_headline_counts_the_current_wave(client, cast, scene):
    headline = dashboard(client, cast).context["dashboard"].headline
    assert (headline.expected, headline.submitted) == (3, 5)
    assert headline.rate == pytest.approx(100 * 5 / 6)
    assert {state: n for state, _, n in headline.states} == {
        "dysfunctional": 1,
        "traditional": 0,
        "relational": 1,
        "unplaced": 1,
    }
    assert headline.open_alerts == 4  # dysfunctional, strain, reliable decline, moved down


def test_the_headline_follows_the_chosen_wave(client, cast, scene):
    headline = dashboard(client, cast, "?wave=1").context["dashboard"].headline
    assert {state: n for state, _, n in headline.states}["relational"] == 2
    assert headline.open_alerts == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?state=dysfunctional", ["falling"]),
        ("?flag=reliable_decline", ["falling"]),
        ("?transition=down", ["falling"]),
        ("?response=protege_missing", ["silent"]),
        ("?response=both", ["falling", "steady"]),
        ("?wave=1&state=traditional", ["silent"]),
    ],
)
def test_the_dyad_table_filters(client, cast, scene, query, expected):
    response = dashboard(client, cast, query)
    assert codes_in(response) == sorted(getattr(scene, name).research_code for name in expected)


def test_the_dyad_table_searches_names_and_research_codes(client, cast, scene):
    assert codes_in(dashboard(client, cast, f"?q={scene.steady.research_code.lower()}")) == [
        scene.steady.research_code
    ]
    name = scene.falling.protege.name
    assert scene.falling.research_code in codes_in(dashboard(client, cast, f"?q={name}"))


def test_ended_dyads_leave_the_table_unless_asked_for(client, cast, scene):
    Dyad.objects.filter(pk=scene.steady.pk).update(is_active=False, ended_on=timezone.localdate())
    assert scene.steady.research_code not in codes_in(dashboard(client, cast))
    assert codes_in(dashboard(client, cast, "?status=ended")) == [scene.steady.research_code]


def test_the_dyad_table_sorts_by_state_and_by_change(client, cast, scene):
    assert codes_in(dashboard(client, cast, "?sort=state"))[0] == scene.falling.research_code
    assert codes_in(dashboard(client, cast, "?sort=-change"))[0] == scene.steady.research_code
    assert codes_in(dashboard(client, cast, "?sort=change"))[-1] == scene.silent.research_code


def test_unknown_filter_values_are_ignored(client, cast, scene):
    response = dashboard(client, cast, "?state=wonderful&sort=hacker&wave=99&page=abc")
    assert len(codes_in(response)) == 3


def test_the_dyad_table_shows_flags_and_open_alerts_in_words(client, cast, scene):
    page = dashboard(client, cast).content.decode()
    assert "Reliable decline" in page and "Strain reported" in page
    assert "Dysfunctional placement" in page


def test_the_dyad_table_pages_by_fifty(client, cast):
    grow(cast, dyads=60, waves=1)
    first = dashboard(client, cast)
    assert len(codes_in(first)) == 50
    assert len(codes_in(dashboard(client, cast, "?page=2"))) == 10


def test_the_dashboard_embeds_each_chart_as_json_data_for_one_static_script(client, cast, scene):
    response = dashboard(client, cast)
    page = response.content.decode()
    for chart in ("chart-states", "chart-rates", "chart-transitions", "chart-agreement"):
        assert f'data-chart="{chart}-data"' in page
        assert f'<script id="{chart}-data" type="application/json">' in page
    assert page.count("plotly/plotly.min.js") == 1 and page.count("js/charts.js") == 1
    assert "<script>" not in page and "cdn" not in page.lower()
    states = response.context["dashboard"].charts[0]
    assert states.table.rows[1] == ["Wave 2", 1, 0, 1, 1]
    assert states.figure["data"][0]["name"] == "Dysfunctional"


def test_the_program_page_summarises_each_cohort_at_its_current_wave(client, cast, scene):
    client.force_login(cast.coordinator)
    response = client.get(f"/coordinate/{cast.program.slug}/")
    summary = response.context["cohorts"][0]
    assert summary["wave"].number == 2 and summary["dyads"] == 3
    assert summary["headline"].open_alerts == 4


# --- dyad detail ---------------------------------------------------------------------------


def dyad_page(client, cast, dyad, query: str = ""):
    client.force_login(cast.coordinator)
    response = client.get(cohort_url(cast, f"dyads/{dyad.research_code}/{query}"))
    assert response.status_code == 200
    return response


def test_the_dyad_page_draws_the_trajectory_from_the_stored_positions(client, cast, scene):
    detail = dyad_page(client, cast, scene.falling).context["detail"]
    dyad_line = detail.trajectory.figure["data"][2]
    assert dyad_line["name"] == "Dyad"
    assert dyad_line["y"] == [pytest.approx(100 * 5 / 6, abs=0.01), pytest.approx(41.67, abs=0.01)]
    bands = [(s["y0"], s["y1"]) for s in detail.trajectory.figure["layout"]["shapes"]]
    assert bands == [(0, 50), (50, 75), (75, 100)]


def test_band_edges_follow_a_programs_own_cuts(client, cast, scene):
    cast.program.placement_overrides = {"dysfunctional_rel": 3.4, "relational_rel": 6.1}
    cast.program.save()
    shapes = dyad_page(client, cast, scene.falling).context["detail"].trajectory.figure
    assert [s["y1"] for s in shapes["layout"]["shapes"]][:2] == [
        pytest.approx(40),
        pytest.approx(85),
    ]


def test_the_dyad_page_lists_alerts_scores_flags_and_responses(client, cast, scene):
    response = dyad_page(client, cast, scene.falling)
    detail = response.context["detail"]
    assert {a["reason"] for a in detail.alerts} == {
        "dysfunctional",
        "strain_reported",
        "reliable_decline",
        "downward_transition",
    }
    assert detail.scores.rows[0][0] == "REL mentor" and detail.scores.rows[0][1:] == [
        "6.00",
        "3.50",
    ]
    latest = detail.wave_rows[0]
    assert latest["state"] == "dysfunctional" and latest["reliable"]
    assert [str(f) for f in latest["flags"]] == ["Reliable decline", "Strain reported"]
    assert latest["mentor"]["code"] == "not_started"  # the scene stored results only


def test_the_dyad_page_shows_subscale_scores_but_no_item_answers(client, cast, scene):
    item = factories.ItemFactory(
        subscale__battery__instrument=scene.waves[1].instrument,
        subscale__battery__code="CAR",
        subscale__code="CAR-SP",
        code="CAR-SP-1",
        text_mentor="I sponsor my protégé in meetings.",
    )
    factories.AnswerFactory(
        response__dyad=scene.falling, response__wave=scene.waves[1], item=item, value=2
    )
    page = dyad_page(client, cast, scene.falling).content.decode()
    assert "CAR-SP-1" not in page and item.text_mentor not in page
    embedded = page.split('<script id="chart-profile-data" type="application/json">')[1]
    profile = json.loads(embedded.split("</script>")[0])
    mentor, protege = profile["data"]
    assert mentor["y"] == ["Learning and growth", "Communal norms"]
    assert mentor["x"] == [3.5, 3.5]


def test_a_wave_without_results_is_shown_as_not_yet_placed(client, cast, scene):
    detail = dyad_page(client, cast, scene.silent).context["detail"]
    assert detail.wave_rows[0]["state"] == "unplaced"
    assert detail.trajectory.figure["data"][2]["y"] == [pytest.approx(66.67, abs=0.01), None]
