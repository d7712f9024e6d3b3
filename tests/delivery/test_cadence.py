"""The schedule: the pure "what is due at T" rules, then a simulated month through the
scheduler and the worker."""

import datetime as dt
import zoneinfo
from collections import defaultdict

import pytest
from django.core import mail
from django.utils import timezone

from assessments.models import Response
from delivery import services, worker
from delivery.cadence import Cadence, Due, Partner, due_messages, reminder_slots
from delivery.models import Delivery, DeliverySchedule
from tests import factories

UTC = dt.UTC
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
OPENS = dt.datetime(2030, 3, 4, tzinfo=UTC)  # a Monday
CLOSES = OPENS + dt.timedelta(days=30)
CADENCE = Cadence(days_after_invitation=(7, 14, 21), days_before_close=(2,), max_reminders=3,
                  send_from_hour=9, send_until_hour=17, time_zone="Europe/Paris")  # fmt: skip


def at(day: float, hour: int = 10) -> dt.datetime:
    """Day ``day`` of the wave at ``hour`` o'clock UTC (11:00 in Paris in March)."""
    return OPENS + dt.timedelta(days=day, hours=hour)


def due(partner: Partner, moment: dt.datetime, cadence: Cadence = CADENCE) -> list[Due]:
    return due_messages(now=moment, opens_at=OPENS, closes_at=CLOSES, cadence=cadence,
                        partners=[partner])  # fmt: skip


def test_a_partner_never_invited_is_due_an_invitation_once_the_wave_is_open():
    assert due(Partner("a"), at(0)) == [Due("a", "invitation", 0)]
    assert due(Partner("a"), at(-1)) == []
    assert due(Partner("a"), at(30)) == []


def test_nothing_is_due_outside_the_sending_hours_of_the_programs_time_zone():
    assert due(Partner("a"), at(0, hour=7)) == []  # 08:00 in Paris
    assert due(Partner("a"), at(0, hour=8)) == [Due("a", "invitation", 0)]  # 09:00
    assert due(Partner("a"), at(0, hour=16)) == []  # 17:00


def test_no_invitation_is_due_when_invitations_on_opening_are_off():
    off = Cadence(invite_on_open=False)
    assert due(Partner("a"), at(0), off) == []


def test_a_partner_who_submitted_is_due_nothing():
    assert due(Partner("a", submitted=True), at(0)) == []
    assert due(Partner("a", invited_at=at(0), submitted=True), at(8)) == []


@pytest.mark.parametrize(
    ("day", "reminders", "expected"),
    [
        (6, 0, []),
        (7, 0, [Due("a", "reminder", 1)]),
        (7, 1, []),
        (14, 1, [Due("a", "reminder", 2)]),
        (21, 2, [Due("a", "reminder", 3)]),
        (28, 3, []),  # the close-2 slot passed, but at most 3 reminders
    ],
)
def test_reminders_follow_the_slots_up_to_the_maximum(day, reminders, expected):
    partner = Partner("a", invited_at=at(0), reminders=reminders, last_message_at=at(0))
    assert due(partner, at(day)) == expected


def test_a_reminder_sent_by_hand_counts_against_the_next_slot():
    by_hand = Partner("a", invited_at=at(0), reminders=1, last_message_at=at(5))
    assert due(by_hand, at(7)) == []


def test_no_reminder_within_a_day_of_the_last_message():
    partner = Partner("a", invited_at=at(0), reminders=0, last_message_at=at(6.9))
    assert due(partner, at(7)) == []


def test_slots_before_the_invitation_or_after_the_close_are_dropped():
    late = at(20)
    assert reminder_slots(late, CLOSES, CADENCE) == [at(27), CLOSES - dt.timedelta(days=2)]


@pytest.mark.parametrize(
    "bad",
    [
        {"send_from_hour": 18, "send_until_hour": 9},
        {"days_after_invitation": (-1,)},
        {"time_zone": "Mars/Olympus"},
    ],
)
def test_impossible_settings_are_refused(bad):
    with pytest.raises(ValueError):
        Cadence(**bad)


# --- a simulated month ---------------------------------------------------------------------


@pytest.fixture
def month(db, settings):
    """A wave of 30 days in the future, scheduled as ``CADENCE``; three dyads."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    start = (timezone.now() + dt.timedelta(days=40)).replace(hour=0, minute=0, second=0,
                                                               microsecond=0)  # fmt: skip
    program = factories.ProgramFactory(name="Bridges")
    cohort = factories.CohortFactory(program=program)
    wave = factories.WaveFactory(cohort=cohort, opens_at=start,
                                 closes_at=start + dt.timedelta(days=30))  # fmt: skip
    DeliverySchedule.objects.create(
        program=program, reminder_days_after=[7, 14, 21], reminder_days_before_close=[2],
        max_reminders=3, send_from_hour=9, send_until_hour=17, time_zone="Europe/Paris",
    )  # fmt: skip
    dyads = [factories.DyadFactory(cohort=cohort) for _ in range(3)]
    return wave, dyads, start


def test_a_month_of_schedule_sends_exactly_the_expected_messages(month):
    wave, (submits, stays, ends), start = month
    late = None
    moment = start - dt.timedelta(days=1)
    while moment < start + dt.timedelta(days=31):
        if moment == start + dt.timedelta(days=10, hours=12):  # the mentor submits
            Response.objects.create(
                wave=wave,
                dyad=submits,
                respondent=submits.mentor,
                role="mentor",
                status="submitted",
                submitted_at=moment,
            )
        if moment == start + dt.timedelta(days=5):
            ends.is_active = False
            ends.save()
        if moment == start + dt.timedelta(days=20, hours=12):
            late = factories.DyadFactory(cohort=wave.cohort)
        services.schedule_run(now=moment)
        worker.deliveries_send(now=moment)
        moment += dt.timedelta(hours=3)  # the scheduler runs every three hours here

    sent = Delivery.objects.filter(status="sent", kind__in=["invitation", "reminder"])
    days = defaultdict(list)
    for row in sent.select_related("invitation__participant__user"):
        days[row.invitation.participant.email].append((row.kind, (row.sent_at - start).days))
        assert 9 <= row.sent_at.astimezone(PARIS).hour < 17
    invite = ("invitation", 0)
    assert days[submits.mentor.email] == [invite, ("reminder", 7)]
    assert days[stays.mentor.email] == [invite, ("reminder", 7), ("reminder", 14), ("reminder", 21)]
    assert days[ends.mentor.email] == [invite]
    assert days[late.mentor.email] == [("invitation", 20), ("reminder", 27), ("reminder", 28)]
    assert (
        len(mail.outbox)
        == sent.count()
        + Delivery.objects.filter(status="sent", kind__in=["alert", "digest"]).count()
    )
    assert Delivery.objects.filter(status="queued").count() == 0
