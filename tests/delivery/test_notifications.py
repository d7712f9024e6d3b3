"""Coordinators hear of dysfunctional and strained dyads by email, once, as they chose,
and get a weekly digest of open alerts and response rates."""

import datetime as dt

import pytest
from django.utils import timezone

from assessments.models import AlertFollowUp, Response
from delivery import services
from delivery.models import Delivery, NotificationPreference
from tests import factories
from tests.coordinate.builders import result
from tests.delivery.conftest import run_worker

pytestmark = pytest.mark.django_db
Alerts = NotificationPreference.Alerts


@pytest.fixture
def coordinators(cohort_wave):
    """The fixture's coordinator (no preference: immediate), one who wants the digest
    only and one who wants no email."""
    program = cohort_wave.program
    digest = factories.CoordinatorFactory(program=program).user
    silent = factories.CoordinatorFactory(program=program).user
    NotificationPreference.objects.create(user=digest, program=program, alerts=Alerts.DIGEST)
    NotificationPreference.objects.create(user=silent, program=program, alerts=Alerts.NONE)
    return cohort_wave.coordinator, digest, silent


def alerts_to(sink, user) -> list[str]:
    return [m.text for m in sink.messages if user.email in m.to and "Subject: Alert" in m.text]


def digests_to(sink, user) -> list[str]:
    return [m.text for m in sink.messages if user.email in m.to and "Subject: This week" in m.text]


def test_a_dysfunctional_dyad_is_emailed_once_to_coordinators_who_want_it_at_once(
    cohort_wave, coordinators, sink, db_tasks
):
    immediate, digest, silent = coordinators
    dyad = cohort_wave.dyads[0]
    result(dyad, cohort_wave.wave, "dysfunctional").save()
    services.schedule_run()
    services.schedule_run()  # a second scheduler, or the next minute
    run_worker()
    [alert] = alerts_to(sink, immediate)
    assert dyad.research_code in alert and "dysfunctional" in alert
    assert f"/coordinate/{cohort_wave.program.slug}/" in alert
    assert alerts_to(sink, digest) == alerts_to(sink, silent) == []


def test_reported_strain_is_its_own_alert(cohort_wave, coordinators, sink, db_tasks):
    immediate = coordinators[0]
    result(cohort_wave.dyads[0], cohort_wave.wave, "dysfunctional", strain_reported=True).save()
    services.schedule_run()
    run_worker()
    alerts = alerts_to(sink, immediate)
    assert len(alerts) == 2 and any("signs of strain" in text for text in alerts)


def test_an_alert_followed_up_before_the_email_goes_out_is_not_sent(
    cohort_wave, coordinators, sink, db_tasks
):
    dyad, wave = cohort_wave.dyads[0], cohort_wave.wave
    result(dyad, wave, "dysfunctional").save()
    services.schedule_run()
    AlertFollowUp.objects.create(dyad=dyad, wave=wave, reason="dysfunctional", note="Called.",
                                 created_by=coordinators[0])  # fmt: skip
    run_worker()
    assert alerts_to(sink, coordinators[0]) == []
    assert Delivery.objects.get(kind="alert").last_error == "followed up"


def test_the_weekly_digest_goes_once_a_week_to_those_who_want_it(
    cohort_wave, coordinators, sink, db_tasks
):
    immediate, digest, silent = coordinators
    wave = cohort_wave.wave
    result(cohort_wave.dyads[0], wave, "dysfunctional").save()
    dyad = cohort_wave.dyads[1]
    Response.objects.create(wave=wave, dyad=dyad, respondent=dyad.mentor, role="mentor",
                            status="submitted", submitted_at=timezone.now())  # fmt: skip
    wave.opens_at = timezone.now() - dt.timedelta(days=30)
    wave.save()
    monday = timezone.now() - dt.timedelta(days=timezone.now().weekday() + 14)
    monday = monday.replace(hour=12, minute=0, second=0, microsecond=0)  # two weeks ago
    for moment in (monday, monday + dt.timedelta(days=2)):
        services.schedule_run(now=moment)
    run_worker()
    [text] = digests_to(sink, digest)
    assert "1 of 12 partners submitted (8%)" in text and "Dysfunctional placement (1)" in text
    assert len(digests_to(sink, immediate)) == 1 and digests_to(sink, silent) == []
    services.schedule_run(now=monday + dt.timedelta(days=7))
    run_worker()
    assert len(digests_to(sink, digest)) == 2


def test_no_digest_before_mondays_sending_hour():
    from delivery.notices import _digest_due

    monday_early = dt.datetime(2030, 3, 4, 6, tzinfo=dt.UTC)
    assert _digest_due(None, None, monday_early) is None
    assert _digest_due(None, None, monday_early + dt.timedelta(hours=4)) == 203010
