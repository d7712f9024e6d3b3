"""Invitations through a real SMTP server and the real database worker: each person
gets exactly one message, whatever the server does, and every link works."""

import datetime as dt
import smtplib
from collections import Counter

import pytest
from django.utils import timezone

from assessments.invitations import invitations_send, reminders_send, wave_send_request
from assessments.models import Invitation, Response
from assessments.tokens import invitation_url, token_revoke
from delivery import services, worker
from delivery.models import Audience, Delivery, DeliveryBatch
from delivery.selectors import batch_progress, dyad_timeline, failed_deliveries
from tests.delivery.conftest import partners_of, run_worker, time_passes

pytestmark = pytest.mark.django_db
Status = Delivery.Status


def path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_nothing_is_mailed_until_a_worker_runs(cohort_wave, sink, db_tasks):
    assert invitations_send(wave=cohort_wave.wave) == 12
    assert sink.messages == []
    assert Invitation.objects.filter(sent_at__isnull=False).count() == 0
    run_worker()
    assert sorted(sink.per_recipient()) == partners_of(cohort_wave.wave)
    assert Invitation.objects.filter(sent_at__isnull=False).count() == 12


def test_a_server_down_half_way_still_gives_everyone_exactly_one_working_link(
    client, cohort_wave, sink, db_tasks, settings
):
    settings.DELIVERY_BATCH_SIZE = 4
    wave = cohort_wave.wave
    sink.refuse_after(5)  # the server starts closing connections after 5 messages
    invitations_send(wave=wave)
    run_worker()
    assert len(sink.messages) == 5
    assert Delivery.objects.filter(status=Status.QUEUED).count() == 7

    sink.stop()  # then it is down altogether
    time_passes()
    services.schedule_run()  # the sweep hands the due retries to the workers
    run_worker()
    invitations = Delivery.objects.filter(kind="invitation")
    assert invitations.filter(status=Status.QUEUED).count() == 7
    assert invitations.filter(status=Status.SENT).count() == 5

    sink.start()  # back
    time_passes()
    services.schedule_run()
    run_worker()
    partners = partners_of(wave)
    received = {email: n for email, n in sink.per_recipient().items() if email in partners}
    assert received == {email: 1 for email in partners}
    assert invitations.filter(status=Status.SENT).count() == 12
    expected = {invitation_url(i) for i in Invitation.objects.filter(wave=wave)}
    assert set(sink.links()) == expected  # failures changed no link
    for link in sink.links():
        assert client.get(path(link)).status_code == 200


def test_a_second_enqueue_is_a_no_op(cohort_wave, sink, db_tasks):
    wave = cohort_wave.wave
    assert invitations_send(wave=wave) == 12
    assert invitations_send(wave=wave) == 0
    extra = DeliveryBatch.objects.create(wave=wave, audience=Audience.NOT_INVITED)
    Delivery.objects.enqueue(services._audience_rows(extra, timezone.now()))  # a racing planner
    rows = list(Delivery.objects.filter(batch__wave=wave))
    again = [
        Delivery(invitation_id=r.invitation_id, kind=r.kind, sequence=r.sequence) for r in rows
    ]
    Delivery.objects.enqueue(again)  # the very same keys, as a concurrent scheduler would
    assert Delivery.objects.count() == 12
    run_worker()
    run_worker()
    assert len(sink.messages) == 12


def test_a_double_click_on_remind_sends_one_reminder(cohort_wave, sink, db_tasks):
    wave = cohort_wave.wave
    invitations_send(wave=wave)
    run_worker()
    assert reminders_send(wave=wave) == 12
    assert reminders_send(wave=wave) == 0  # the first batch is still on its way
    run_worker()
    assert reminders_send(wave=wave) == 0  # and just went out
    assert len(sink.messages) == 24
    reminded = Invitation.objects.filter(wave=wave, reminder_count=1, reminded_at__isnull=False)
    assert reminded.count() == 12


def test_nobody_who_submitted_is_told_it_is_time_for_the_survey(cohort_wave, sink, db_tasks):
    wave, dyad = cohort_wave.wave, cohort_wave.dyads[0]
    Response.objects.create(wave=wave, dyad=dyad, respondent=dyad.mentor, role="mentor",
                            status="submitted", submitted_at=timezone.now())  # fmt: skip
    assert invitations_send(wave=wave) == 11
    reminders_send(wave=wave)
    run_worker()
    assert dyad.mentor.email not in sink.per_recipient()


def test_someone_who_submits_before_the_worker_runs_gets_nothing(cohort_wave, sink, db_tasks):
    wave, dyad = cohort_wave.wave, cohort_wave.dyads[0]
    invitations_send(wave=wave)
    Response.objects.create(wave=wave, dyad=dyad, respondent=dyad.protege, role="protege",
                            status="submitted", submitted_at=timezone.now())  # fmt: skip
    run_worker()
    assert dyad.protege.email not in sink.per_recipient()
    skipped = Delivery.objects.get(status=Status.CANCELLED)
    assert skipped.last_error == "already submitted"


def test_a_revoked_link_is_not_mailed(cohort_wave, sink, db_tasks):
    wave, dyad = cohort_wave.wave, cohort_wave.dyads[0]
    invitations_send(wave=wave)
    token_revoke(invitation=Invitation.objects.get(wave=wave, participant=dyad.mentor))
    run_worker()
    assert dyad.mentor.email not in sink.per_recipient()
    assert len(sink.messages) == 11


def test_a_mid_wave_dyad_gets_an_invitation_not_a_reminder(cohort_wave, sink, db_tasks):
    from tests import factories

    wave = cohort_wave.wave
    invitations_send(wave=wave)
    run_worker()
    late = factories.DyadFactory(cohort=cohort_wave.cohort)
    reminders_send(wave=wave)
    run_worker()
    late_mail = [m.text for m in sink.messages if late.mentor.email in m.to]
    assert len(late_mail) == 1 and "Subject: Your survey from Bridges" in late_mail[0]


def test_the_subject_reads_naturally_whatever_the_program_is_called(cohort_wave, sink, db_tasks):
    cohort_wave.program.name = "Demo mentoring program"
    cohort_wave.program.save()
    invitations_send(wave=cohort_wave.wave)
    run_worker()
    assert "Subject: Your survey from Demo mentoring program" in sink.messages[0].text


def test_a_stuck_sending_row_is_sent_again_after_the_lease(cohort_wave, sink, db_tasks, settings):
    wave = cohort_wave.wave
    invitations_send(wave=wave)
    now = timezone.now()
    worker.deliveries_claim(now=now, size=5)  # a worker took 5 rows, then was killed
    run_worker()
    assert len(sink.messages) == 7  # the 5 held rows wait for their lease
    later = now + dt.timedelta(seconds=settings.DELIVERY_LEASE_SECONDS + 1)
    worker.deliveries_send(now=later)
    assert sink.per_recipient() == Counter({email: 1 for email in partners_of(wave)})
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1, 2}


def test_temporary_failures_retry_with_back_off_then_fail_with_the_error(
    cohort_wave, sink, db_tasks, settings
):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    settings.DELIVERY_RETRY_SECONDS = [60, 300]
    sink.stop()
    invitations_send(wave=cohort_wave.wave)
    now = timezone.now()
    worker.deliveries_send(now=now)
    waiting = Delivery.objects.first()
    assert waiting.status == Status.QUEUED and waiting.attempts == 1
    assert waiting.next_attempt_at == now + dt.timedelta(seconds=60)
    worker.deliveries_send(now=now + dt.timedelta(seconds=61))
    waiting.refresh_from_db()
    assert waiting.next_attempt_at == now + dt.timedelta(seconds=61 + 300)
    worker.deliveries_send(now=now + dt.timedelta(hours=1))
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.FAILED}
    assert "Connection" in Delivery.objects.first().last_error
    assert Invitation.objects.filter(sent_at__isnull=False).count() == 0
    assert failed_deliveries(program=cohort_wave.program).count() == 12


def test_a_failed_message_can_be_sent_again_with_the_same_link(cohort_wave, sink, db_tasks):
    wave = cohort_wave.wave
    invitations_send(wave=wave)
    failed = Delivery.objects.first()
    Delivery.objects.filter(pk=failed.pk).update(status=Status.FAILED, last_error="550 no")
    run_worker()
    services.delivery_retry(delivery=failed)
    run_worker()
    assert len(sink.messages) == 12
    assert invitation_url(failed.invitation) in {link for link in sink.links()}
    with pytest.raises(services.ValidationError):
        services.delivery_retry(delivery=failed)


def test_a_refused_recipient_fails_at_once(cohort_wave, sink, db_tasks):
    refused = smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no such user")})
    assert worker.is_permanent(refused)
    assert not worker.is_permanent(smtplib.SMTPServerDisconnected("gone"))
    assert not worker.is_permanent(smtplib.SMTPSenderRefused(421, b"busy", "a@b"))
    assert not worker.is_permanent(ConnectionRefusedError())


def test_the_send_button_only_queues_and_reports_progress(client, cohort_wave, sink, db_tasks):
    client.force_login(cohort_wave.coordinator)
    batch = wave_send_request(
        wave=cohort_wave.wave, audience=Audience.NOT_INVITED, requested_by=cohort_wave.coordinator
    )
    assert batch_progress(batch=batch).planned is False
    run_worker()
    progress = batch_progress(batch=batch)
    assert progress.planned and progress.done and progress.sent == 12 == progress.total
    events = dyad_timeline(dyad=cohort_wave.dyads[0])
    assert [(e.role, e.kind, e.status) for e in events] == [
        ("mentor", "invitation", "sent"),
        ("protege", "invitation", "sent"),
    ]
