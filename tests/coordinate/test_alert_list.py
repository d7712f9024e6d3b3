"""The cohort's alert list read page by page from the kept open alerts: every page in
the newest-first order of the whole list, whatever the filters, and a query count that
does not grow with the cohort."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.coordinate.selectors.alerts import PAGE_SIZE
from assessments.measurement import rules
from assessments.models import OpenAlert
from assessments.results import aggregates
from tests.coordinate.builders import add_waves, cohort_url, grow

pytestmark = pytest.mark.django_db


def _listed(client, cast, query: str) -> list[tuple]:
    """Every row of the open alerts list with ``query``, page after page."""
    rows, page = [], 1
    while True:
        response = client.get(cohort_url(cast, f"alerts/?{query}&page={page}"))
        assert response.status_code == 200
        paged = response.context["page"]
        rows += [(r["code"], r["wave"], r["reason"], r["raised"]) for r in paged.object_list]
        if not paged.has_next():
            return rows
        page += 1


def _expected(cast, *, wave: int | None = None, reason: str = "") -> list[tuple]:
    """The open alerts shown, sorted in Python: results' alerts at opened waves, and a
    partner missing at the open wave (it closes within the alert days)."""
    now = timezone.now()
    alerts = OpenAlert.objects.filter(cohort=cast.cohort).select_related("wave")
    shown = [
        a
        for a in alerts
        if (not a.timed or a.raised_sort <= now < a.wave.closes_at)
        and (wave is None or a.wave_number == wave)
        and (not reason or a.reason == reason)
    ]
    rank = {r: i for i, r in enumerate(rules.ALERT_REASONS)}
    shown.sort(key=lambda a: (-a.raised_sort.timestamp(), a.code, -a.wave_number, rank[a.reason]))
    return [(a.code, a.wave_number, a.reason, a.raised_at) for a in shown]


@pytest.fixture
def crowded(cast, client):
    """60 dyads over three waves, the last open and closing in two days."""
    client.force_login(cast.coordinator)
    grow(cast, dyads=60, waves=3)
    add_waves(cast.cohort, 3, open_last=True)
    aggregates.rebuild(cohort=cast.cohort)
    return cast


@pytest.mark.parametrize(
    "query, wave, reason",
    [
        ("", None, ""),
        ("reason=dysfunctional", None, "dysfunctional"),
        ("reason=partner_missing", None, "partner_missing"),
        ("wave=1", 1, ""),
        ("wave=3&reason=partner_missing", 3, "partner_missing"),
    ],
)
def test_every_page_lists_the_open_alerts_newest_first(client, crowded, query, wave, reason):
    expected = _expected(crowded, wave=wave, reason=reason)
    assert len(expected) > PAGE_SIZE or query  # more than one page without a filter
    assert _listed(client, crowded, query) == expected


def test_the_open_alerts_list_makes_as_many_queries_at_200_dyads_as_at_10(client, cast):
    client.force_login(cast.coordinator)
    tails = ["alerts/?page=3", "alerts/?reason=dysfunctional", "alerts/?wave=1&page=2",
             "alerts/?reason=partner_missing"]  # fmt: skip

    def counts(dyads: int) -> list[int]:
        grow(cast, dyads=dyads, waves=3)
        add_waves(cast.cohort, 3, open_last=True)
        aggregates.rebuild(cohort=cast.cohort)
        found = []
        for tail in tails:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(cohort_url(cast, tail)).status_code == 200
            found.append(len(captured))
        return found

    assert counts(10) == counts(200)
