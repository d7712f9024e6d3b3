"""The dashboard's dyad list as a CSV file: what it holds (the listed dyads, every wave's
scores, states and flags, never an answer), who may take it, that it is recorded in the
audit trail, and that its queries do not grow with the cohort."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from assessments.coordinate import files
from assessments.coordinate.report_views import dyad_list
from assessments.models import DyadWaveResult
from audit.models import AuditEvent
from tests import factories
from tests.coordinate.builders import (
    backsliding_scene,
    cohort_url,
    grow,
)

pytestmark = pytest.mark.django_db


def download(client, cast, query: str = ""):
    response = client.get(cohort_url(cast, f"dyads.csv{query}"))
    assert response.status_code == 200
    return response


def rows_of(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def scene(cast):
    """Two closed waves: a backsliding dyad, a steady relational one, a silent partner."""
    return backsliding_scene(cast, str_mentor=3.5)


def test_the_file_lists_each_dyad_at_each_wave_with_scores_states_and_flags(client, cast, scene):
    client.force_login(cast.coordinator)
    rows = rows_of(download(client, cast))
    by_key = {(row["dyad"], row["wave"]): row for row in rows}
    assert len(rows) == 6
    fell = by_key[(scene.falling.research_code, "2")]
    assert fell["mentor"] == scene.falling.mentor_name
    assert fell["protege"] == scene.falling.protege_name
    assert fell["state"] == "dysfunctional"
    assert (fell["REL_dyad"], fell["STR_mentor"], fell["position"]) == ("3.50", "3.50", "41.7")
    assert (fell["change"], fell["transition"], fell["reliable_change"]) == ("-2.50", "down", "yes")
    assert fell["flags"] == "reliable_decline;strain_reported"
    assert (fell["program"], fell["cohort"], fell["wave_label"]) == ("bridges", "2026", "Wave 2")
    silent = by_key[(scene.silent.research_code, "2")]
    assert (silent["state"], silent["mentor_submitted"], silent["protege_submitted"]) == (
        "unplaced",
        "yes",
        "no",
    )
    assert silent["flags"] == "awaiting_partner"


def test_the_file_follows_the_dashboards_filters_and_order(client, cast, scene):
    client.force_login(cast.coordinator)
    declined = rows_of(download(client, cast, "?wave=2&flag=reliable_decline"))
    assert {row["dyad"] for row in declined} == {scene.falling.research_code}
    assert [row["wave"] for row in declined] == ["1", "2"]
    at_first = rows_of(download(client, cast, "?wave=1&state=relational&sort=-code"))
    codes = sorted([scene.falling.research_code, scene.steady.research_code], reverse=True)
    assert list(dict.fromkeys(row["dyad"] for row in at_first)) == codes
    dashboard = client.get(cohort_url(cast, "?wave=1&state=relational&sort=-code"))
    listed = [row["research_code"] for row in dashboard.context["dashboard"].page.object_list]
    assert listed == codes


def test_ended_dyads_appear_only_at_the_waves_they_answered_and_when_asked_for(client, cast, scene):
    scene.silent.is_active = False
    scene.silent.ended_on = scene.silent.started_on
    scene.silent.save()
    DyadWaveResult.objects.filter(dyad=scene.silent, wave=scene.waves[1]).delete()
    client.force_login(cast.coordinator)
    assert scene.silent.research_code not in {r["dyad"] for r in rows_of(download(client, cast))}
    everyone = rows_of(download(client, cast, "?status=all"))
    ended = [row for row in everyone if row["dyad"] == scene.silent.research_code]
    assert [(row["wave"], row["status"]) for row in ended] == [("1", "ended")]
    assert ended[0]["ended_on"] == scene.silent.started_on.isoformat()


def test_the_file_has_no_item_columns_and_no_answer(client, cast, scene):
    client.force_login(cast.coordinator)
    response = download(client, cast)
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[0].split(",") == files.DYAD_LIST_COLUMNS
    assert not any(name.count("-") for name in files.DYAD_LIST_COLUMNS)
    assert "REL-LG" not in text and "subscales" not in text


def test_formula_like_names_come_out_inert(client, cast, scene):
    scene.falling.mentor_name = '=HYPERLINK("http://evil.example","x")'
    scene.falling.protege_name = "@SUM(A1)"
    scene.falling.save()
    client.force_login(cast.coordinator)
    rows = [r for r in rows_of(download(client, cast)) if r["dyad"] == scene.falling.research_code]
    assert {r["mentor"] for r in rows} == {"'" + scene.falling.mentor_name}
    assert {r["protege"] for r in rows} == {"'@SUM(A1)"}
    assert rows[-1]["change"] == "-2.50"  # a negative number stays a number


def test_the_file_streams_as_an_attachment_that_is_not_cached(client, cast, scene):
    client.force_login(cast.coordinator)
    response = download(client, cast, "?wave=1")
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bridges-2026-dyads-wave1.csv"'
    assert "no-store" in response["Cache-Control"]


def test_the_dashboard_offers_the_list_under_its_filters(client, cast, scene):
    client.force_login(cast.coordinator)
    page = client.get(cohort_url(cast, "?state=relational&page=1"))
    assert 'href="/coordinate/bridges/2026/dyads.csv?state=relational"' in page.text
    assert "Download this list (CSV)" in page.text


# --- who may take it, and the audit trail --------------------------------------------------


def test_a_download_is_recorded_once_with_the_cohort_wave_filters_and_rows(client, cast, scene):
    client.force_login(cast.coordinator)
    rows = rows_of(download(client, cast, "?wave=2&state=dysfunctional&q=Someone"))
    event = AuditEvent.objects.get(action=AuditEvent.Action.DYADS_DOWNLOADED)
    assert (event.actor, event.program, event.target) == (
        cast.coordinator,
        "bridges",
        "bridges/2026",
    )
    assert event.detail == {
        "rows": len(rows),
        "wave": 2,
        "filters": {"state": "dysfunctional"},
        "search": True,
    }
    assert not event.incomplete
    assert "Someone" not in str(event.detail)


@pytest.fixture
def served(cast, scene, rf, monkeypatch):
    """The download as a WSGI server receives it (a response whose stream the server
    reads, then closes), two rows a chunk."""
    monkeypatch.setattr(files, "ROWS_PER_CHUNK", 2)
    request = rf.get(cohort_url(cast, "dyads.csv"))
    request.user = cast.coordinator
    return dyad_list(request, program=cast.program.slug, cohort=cast.cohort.slug)


def close_as_a_server(response) -> None:
    """Close ``response`` as a WSGI server does, at the end or when its client goes away,
    keeping the test's database connection open (``request_finished`` would close it)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def test_a_download_closed_before_its_first_chunk_is_recorded_incomplete(served):
    close_as_a_server(served)
    event = AuditEvent.objects.get(action=AuditEvent.Action.DYADS_DOWNLOADED)
    assert event.incomplete
    assert event.detail["rows"] == 0


def test_a_download_cut_off_after_its_first_chunk_is_recorded_incomplete(served):
    sent = next(served.streaming_content).count(b"\r\n") - 1  # less the header
    close_as_a_server(served)  # the client went away
    event = AuditEvent.objects.get(action=AuditEvent.Action.DYADS_DOWNLOADED)
    assert event.incomplete
    assert event.detail["rows"] == sent == 2


def test_a_download_read_to_its_end_is_recorded_once_and_complete(served):
    rows = b"".join(served.streaming_content).count(b"\r\n") - 1
    close_as_a_server(served)
    event = AuditEvent.objects.get(action=AuditEvent.Action.DYADS_DOWNLOADED)
    assert not event.incomplete
    assert event.detail["rows"] == rows == 6


def test_another_programs_coordinator_gets_404_and_nothing_is_recorded(client, cast, scene):
    client.force_login(cast.other_coordinator)
    assert client.get(cohort_url(cast, "dyads.csv")).status_code == 404
    client.force_login(cast.mentor.user)
    assert client.get(cohort_url(cast, "dyads.csv")).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DYADS_DOWNLOADED).exists()


def test_staff_take_the_list_only_with_the_every_program_permission(client, cast, scene):
    staff = factories.UserFactory(email="staff@example.org", is_staff=True)
    client.force_login(staff)
    assert client.get(cohort_url(cast, "dyads.csv")).status_code == 404
    staff.user_permissions.add(Permission.objects.get(codename="coordinate_all_programs"))
    client.force_login(staff)
    assert len(rows_of(download(client, cast))) == 6


# --- query counts --------------------------------------------------------------------------


def queries_of_download(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        lines = b"".join(response.streaming_content).count(b"\r\n")
    return len(captured), lines


@pytest.mark.parametrize("query", ["", "?wave=1&state=relational&sort=-position&q=D-"])
def test_the_download_makes_as_many_queries_for_50_dyads_as_for_10(client, cast, query):
    client.force_login(cast.coordinator)
    url = cohort_url(cast, f"dyads.csv{query}")
    grow(cast, dyads=10, waves=3)
    small, small_lines = queries_of_download(client, url)
    grow(cast, dyads=50, waves=3)
    large, large_lines = queries_of_download(client, url)
    assert large_lines > small_lines > 1
    assert large == small <= 8
