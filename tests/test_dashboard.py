"""Coordinator dashboards: who may see them, what they show, and that their query
counts do not grow with the number of dyads or waves."""

import datetime as dt
import itertools
import json
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import DyadWaveResult, Response, Wave
from relationships.models import Dyad, Participant
from tests import factories

pytestmark = pytest.mark.django_db

STATE_CYCLE = ("relational", "traditional", "dysfunctional", "unplaced")


# --- builders ------------------------------------------------------------------------------


def rel_instrument():
    """An instrument with two REL subscales (enough for the profile's titles)."""
    battery = factories.BatteryFactory(code="REL")
    factories.SubscaleFactory(battery=battery, code="REL-LG", title="Learning and growth", order=0)
    factories.SubscaleFactory(battery=battery, code="REL-CN", title="Communal norms", order=1)
    return battery.instrument


def add_waves(cohort, count: int, *, open_last: bool = False) -> list[Wave]:
    """Waves 1..count of the cohort (existing ones kept), 60 days apart, all closed,
    except the last when ``open_last`` (it then closes in two days)."""
    first = Wave.objects.filter(cohort=cohort).first()
    instrument = first.instrument if first else rel_instrument()
    start = timezone.now() - dt.timedelta(days=60 * count + 30)
    existing = set(cohort.waves.values_list("number", flat=True))
    waves = [
        Wave(
            cohort=cohort,
            number=n,
            label=f"Wave {n}",
            opens_at=start + dt.timedelta(days=60 * (n - 1)),
            closes_at=start + dt.timedelta(days=60 * (n - 1) + 30),
            instrument=instrument,
        )
        for n in range(1, count + 1)
        if n not in existing
    ]
    Wave.objects.bulk_create(waves)
    if open_last:
        Wave.objects.filter(cohort=cohort, number=count).update(
            opens_at=timezone.now() - dt.timedelta(days=5),
            closes_at=timezone.now() + dt.timedelta(days=2),
        )
    return list(cohort.waves.order_by("number"))


def add_dyads(cohort, count: int) -> list[Dyad]:
    """``count`` more dyads with participants that exist only as research codes."""
    people = Participant.objects.bulk_create(
        [Participant(name=f"Person {i}") for i in range(2 * count)]
    )
    return Dyad.objects.bulk_create(
        [Dyad(cohort=cohort, mentor=people[2 * i], protege=people[2 * i + 1]) for i in range(count)]
    )


def result(dyad, wave, state: str, **fields) -> DyadWaveResult:
    """A stored result as ``results_recompute`` would write it (both partners submitted)."""
    placed = state != "unplaced"
    rel = {"relational": 6.0, "traditional": 5.0, "dysfunctional": 3.5}.get(state)
    values = {
        "mentor_submitted": True,
        "protege_submitted": placed,
        "rel_mentor": rel,
        "rel_protege": rel,
        "rel_dyad": rel if placed else None,
        "psy_mentor": rel,
        "psy_protege": rel,
        "position": 100 * (rel - 1) / 6 if placed else None,
        "transition": "first" if placed else "",
        "awaiting_partner": not placed,
        "subscales": {
            "mentor": {"REL-LG": rel, "REL-CN": rel},
            "protege": {"REL-LG": rel, "REL-CN": rel},
        },
        **fields,
    }
    return DyadWaveResult(dyad=dyad, wave=wave, state=state, rule_version="continuum-v1", **values)


def fill_results(dyads, waves) -> None:
    """A result for every dyad × wave (states cycling) plus the submitted responses."""
    existing = set(DyadWaveResult.objects.values_list("dyad_id", "wave_id"))
    pairs = [(d, w) for d, w in itertools.product(dyads, waves) if (d.pk, w.pk) not in existing]
    states = [STATE_CYCLE[(d.pk + w.number) % 4] for d, w in pairs]
    DyadWaveResult.objects.bulk_create(
        [
            result(
                d, w, s, reliable_decline=s == "dysfunctional", strain_reported=s == "dysfunctional"
            )
            for (d, w), s in zip(pairs, states, strict=True)
        ]
    )
    Response.objects.bulk_create(
        [
            Response(
                wave=w,
                dyad=d,
                respondent=person,
                role=role,
                status="submitted",
                submitted_at=w.opens_at + dt.timedelta(days=3),
            )
            for (d, w), s in zip(pairs, states, strict=True)
            for role, person in (("mentor", d.mentor), ("protege", d.protege))
            if s != "unplaced" or role == "mentor"
        ]
    )


def grow(cast, *, dyads: int, waves: int) -> SimpleNamespace:
    """Bring the cast's cohort to ``dyads`` dyads and ``waves`` waves, with results."""
    have = cast.cohort.dyads.count()
    if dyads > have:
        add_dyads(cast.cohort, dyads - have)
    all_waves = add_waves(cast.cohort, waves)
    fill_results(list(cast.cohort.dyads.all()), all_waves)
    return SimpleNamespace(waves=all_waves, dyads=list(cast.cohort.dyads.all()))


def cohort_url(cast, tail: str = "") -> str:
    return f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/{tail}"


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


PAGES = [
    "",
    "alerts/",
    "psychometrics/",
    "manage/",
    "manage/waves/new/",
    "manage/waves/1/",
    "manage/dyads/new/",
    "manage/dyads/import/",
    "dyads/{code}/",
]


@pytest.fixture
def small(cast):
    return grow(cast, dyads=4, waves=2)


@pytest.mark.parametrize("tail", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, cast, small, tail):
    response = client.get(cohort_url(cast, tail.format(code=cast.dyad.research_code)))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("tail", PAGES)
@pytest.mark.parametrize("who", ["mentor", "outsider"])
def test_participants_get_404_on_coordinator_pages(client, cast, small, tail, who):
    client.force_login(getattr(cast, who).user)
    assert (
        client.get(cohort_url(cast, tail.format(code=cast.dyad.research_code))).status_code == 404
    )


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
    waves = add_waves(cast.cohort, 2)
    falling, steady, silent = cast.dyad, cast.other_dyad, add_dyads(cast.cohort, 1)[0]
    DyadWaveResult.objects.bulk_create(
        [
            result(falling, waves[0], "relational"),
            result(
                falling,
                waves[1],
                "dysfunctional",
                transition="down",
                transition_reliable=True,
                change=-2.5,
                reliable_decline=True,
                strain_reported=True,
            ),
            result(steady, waves[0], "relational"),
            result(steady, waves[1], "relational", transition="same", change=0.1),
            result(silent, waves[0], "traditional"),
            result(silent, waves[1], "unplaced"),
        ]
    )
    return SimpleNamespace(waves=waves, falling=falling, steady=steady, silent=silent)


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
