"""The coordinator's email pages: a wave's send is confirmed with its counts, answers at
once and is followed on a progress page; failed messages are listed and sent again;
each program words its own invitation and reminder, tries it on itself, sets its
schedule; each coordinator chooses their alert emails; the dyad page shows each
partner's way through a wave. Every write is audited under the program."""

import datetime as dt
import time

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Answer, Invitation, Item, Response
from audit.models import AuditEvent
from delivery.messages import delivery_message
from delivery.models import (
    Delivery,
    DeliveryBatch,
    DeliverySchedule,
    Kind,
    MessageTemplate,
    NotificationPreference,
)
from delivery.services import deliveries_enqueue
from relationships.models import Dyad, Participant, User
from tests import factories
from tests.coordinate.builders import add_waves, cohort_url
from tests.delivery.conftest import run_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def db_tasks(settings):
    """The database task queue: a request only stores work, a worker does it."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


@pytest.fixture
def open_wave(cast):
    """An open wave in which the cast's mentor has submitted already."""
    wave = add_waves(cast.cohort, 1, open_last=True)[0]
    Response.objects.create(wave=wave, dyad=cast.dyad, respondent=cast.mentor, role="mentor",
                            status="submitted", submitted_at=timezone.now())  # fmt: skip
    return wave


def add_mailable_dyads(cohort, count: int) -> None:
    """``count`` more dyads whose partners have email addresses."""
    start = User.objects.count()
    users = User.objects.bulk_create(
        [User(email=f"bulk{start + i}@example.org") for i in range(2 * count)]
    )
    people = Participant.objects.bulk_create([Participant(user=u, name=u.email) for u in users])
    Dyad.objects.bulk_create(
        [Dyad(cohort=cohort, mentor=people[2 * i], protege=people[2 * i + 1]) for i in range(count)]
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def email_url(cast, tail: str) -> str:
    return f"/coordinate/{cast.program.slug}/email/{tail}"


def recorded(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("pk")


# --- confirming a send ---------------------------------------------------------------------


def test_the_manage_page_links_to_the_confirmation_instead_of_sending(client, cast, open_wave):
    client.force_login(cast.coordinator)
    page = client.get(cohort_url(cast, "manage/")).content.decode()
    assert cohort_url(cast, f"manage/waves/{open_wave.number}/send/") in page
    assert f'action="{cohort_url(cast, f"manage/waves/{open_wave.number}/invite/")}"' not in page
    assert not DeliveryBatch.objects.exists()


def test_the_confirmation_counts_each_choice_and_sends_nothing(client, cast, open_wave):
    deliveries_enqueue(wave=open_wave, audience="not_invited")  # three people
    deliveries_enqueue(wave=open_wave, audience="chosen", participant_ids=[cast.protege.pk])
    add_mailable_dyads(cast.cohort, 1)
    client.force_login(cast.coordinator)
    before = Delivery.objects.count()
    page = client.get(cohort_url(cast, f"manage/waves/{open_wave.number}/send/"))
    counts = {choice["audience"]: choice["count"] for choice in page.context["choices"]}
    # the new dyad is owed its two invitations; of the three invited, the protégé was
    # reminded a moment ago and the mentor has submitted: two reminders are owed
    assert counts == {"not_invited": 2, "not_submitted": 4}
    assert "Send 2 invitations" in page.content.decode()
    assert "Send 4 emails" in page.content.decode()
    assert Delivery.objects.count() == before


def test_a_closed_wave_offers_no_send(client, cast):
    wave = add_waves(cast.cohort, 1)[0]
    client.force_login(cast.coordinator)
    page = client.get(cohort_url(cast, f"manage/waves/{wave.number}/send/"))
    assert "This wave is not open" in page.content.decode()
    reply = client.post(cohort_url(cast, f"manage/waves/{wave.number}/invite/"))
    assert reply.url == cohort_url(cast, f"manage/waves/{wave.number}/send/")
    assert "only while a wave is open" in " ".join(messages_of(reply))
    assert not DeliveryBatch.objects.exists()


def test_confirming_answers_at_once_and_leaves_the_sending_to_the_worker(
    client, cast, open_wave, db_tasks
):
    add_mailable_dyads(cast.cohort, 200)
    client.force_login(cast.coordinator)
    url = cohort_url(cast, f"manage/waves/{open_wave.number}/invite/")
    client.get(cohort_url(cast, f"manage/waves/{open_wave.number}/send/"))  # a warm process
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        reply = client.post(url)
    took = time.perf_counter() - started
    batch = DeliveryBatch.objects.get()
    assert reply.status_code == 302
    assert reply.url == cohort_url(cast, f"manage/sends/{batch.pk}/")
    assert took < 0.3, took
    assert len(queries) <= 12  # no query per person: the worker plans the batch
    assert batch.planned_at is None and not Delivery.objects.exists() and mail.outbox == []
    run_worker()
    assert len(mail.outbox) == 2 * 200 + 3  # everyone but the mentor who submitted


def test_a_double_click_on_confirm_sends_each_person_one_email(client, cast, open_wave, db_tasks):
    client.force_login(cast.coordinator)
    url = cohort_url(cast, f"manage/waves/{open_wave.number}/invite/")
    client.post(url)
    client.post(url)
    run_worker()
    assert DeliveryBatch.objects.count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.protege.email, cast.other_dyad.mentor.email, cast.other_dyad.protege.email]
    )
    assert Delivery.objects.filter(kind=Kind.INVITATION).count() == 3


def test_a_double_click_on_remind_sends_each_person_one_reminder(client, cast, open_wave, db_tasks):
    deliveries_enqueue(wave=open_wave, audience="not_invited")
    run_worker()
    mail.outbox.clear()
    client.force_login(cast.coordinator)
    url = cohort_url(cast, f"manage/waves/{open_wave.number}/remind/")
    client.post(url)
    client.post(url)
    run_worker()
    assert len(mail.outbox) == 3 and all(m.subject.startswith("Reminder") for m in mail.outbox)
    assert Delivery.objects.filter(kind=Kind.REMINDER).count() == 3


def test_the_progress_page_and_its_json_count_the_send(client, cast, open_wave, db_tasks):
    client.force_login(cast.coordinator)
    reply = client.post(cohort_url(cast, f"manage/waves/{open_wave.number}/invite/"))
    waiting = client.get(reply.url)
    assert waiting.context["progress"]["planned"] is False
    assert "Preparing the emails" in waiting.content.decode()
    assert 'src="/static/js/send_progress.js"' in waiting.content.decode()
    run_worker()
    done = client.get(reply.url + "progress.json")
    assert done["Content-Type"] == "application/json"
    assert done.json() == {
        "planned": True, "total": 3, "queued": 0, "sending": 0, "sent": 3, "failed": 0,
        "cancelled": 0, "done": True, "finished": 3,
    }  # fmt: skip
    page = client.get(reply.url).content.decode()
    assert "Done: nothing is waiting any more." in page and 'data-count="sent">3<' in page


def test_sending_is_recorded_with_the_batch_and_the_program(client, cast, open_wave):
    client.force_login(cast.coordinator)
    client.post(cohort_url(cast, f"manage/waves/{open_wave.number}/invite/"))
    event = recorded(AuditEvent.Action.INVITATIONS_SENT)
    assert event.program == "bridges" and event.detail["batch"] == DeliveryBatch.objects.get().pk


def test_a_send_of_another_cohort_is_not_found_here(client, cast, open_wave):
    elsewhere = factories.WaveFactory(cohort=factories.CohortFactory(program=cast.program))
    batch = DeliveryBatch.objects.create(wave=elsewhere, audience="not_invited")
    client.force_login(cast.coordinator)
    assert client.get(cohort_url(cast, f"manage/sends/{batch.pk}/")).status_code == 404
    assert client.get(cohort_url(cast, f"manage/sends/{batch.pk}/progress.json")).status_code == 404


@pytest.mark.parametrize(("who", "status"), [("other_coordinator", 404), ("mentor", 403)])
def test_outsiders_cannot_follow_or_start_a_send(client, cast, open_wave, who, status):
    batch = DeliveryBatch.objects.create(wave=open_wave, audience="not_invited")
    user = getattr(cast, who)
    client.force_login(user if isinstance(user, User) else user.user)
    for tail in (f"manage/sends/{batch.pk}/", f"manage/sends/{batch.pk}/progress.json",
                 f"manage/waves/{open_wave.number}/send/"):  # fmt: skip
        assert client.get(cohort_url(cast, tail)).status_code == status
    assert client.post(cohort_url(cast, f"manage/waves/{open_wave.number}/invite/")).status_code \
        == status  # fmt: skip
    assert DeliveryBatch.objects.count() == 1


# --- failed messages -----------------------------------------------------------------------


@pytest.fixture
def failed(cast, open_wave):
    """The protégé's invitation, refused for good by the mail server."""
    deliveries_enqueue(wave=open_wave, audience="not_invited")
    row = Delivery.objects.get(invitation__participant=cast.protege)
    Delivery.objects.filter(pk=row.pk).update(
        status=Delivery.Status.FAILED,
        attempts=1,
        last_error="SMTPRecipientsRefused: 550 no such user",
    )
    return row


def test_failed_messages_are_listed_with_their_last_error(client, cast, failed):
    client.force_login(cast.coordinator)
    page = client.get(email_url(cast, "failed/") + "?cohort=2026")
    rows = page.context["page"].object_list
    assert [(r["id"], r["dyad"], r["role"], r["error"]) for r in rows] == [
        (failed.pk, cast.dyad.research_code, "Protégé", "SMTPRecipientsRefused: 550 no such user")
    ]
    assert "550 no such user" in page.content.decode()


def test_retry_queues_the_message_again_and_is_recorded_with_the_program(client, cast, failed):
    client.force_login(cast.coordinator)
    link_before = Invitation.objects.get(pk=failed.invitation_id).nonce
    mail.outbox.clear()
    reply = client.post(email_url(cast, f"failed/{failed.pk}/retry/"))
    assert reply.url == email_url(cast, "failed/")
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.SENT  # tasks run inside the request here
    assert [m.to for m in mail.outbox] == [[cast.protege.email]]
    assert Invitation.objects.get(pk=failed.invitation_id).nonce == link_before
    event = recorded("delivery.retried")
    assert event.program == "bridges" and event.actor == cast.coordinator
    assert cast.dyad.research_code in event.target and event.detail["delivery"] == failed.pk


def test_only_a_failed_message_can_be_retried(client, cast, failed):
    Delivery.objects.filter(pk=failed.pk).update(status=Delivery.Status.SENT)
    client.force_login(cast.coordinator)
    reply = client.post(email_url(cast, f"failed/{failed.pk}/retry/"))
    assert "Only a failed message" in " ".join(messages_of(reply))
    assert not AuditEvent.objects.filter(action="delivery.retried").exists()


def test_another_programs_coordinator_cannot_retry(client, cast, failed):
    client.force_login(cast.other_coordinator)
    assert client.post(email_url(cast, f"failed/{failed.pk}/retry/")).status_code == 404
    other = f"/coordinate/{cast.other_program.slug}/email/failed/{failed.pk}/retry/"
    factories.CoordinatorFactory(program=cast.other_program, user=cast.coordinator)
    client.force_login(cast.coordinator)
    assert client.post(other).status_code == 404  # not a message of that program
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.FAILED


# --- wording -------------------------------------------------------------------------------

OWN_BODY = "Dear {name},\n\nYour {program} check-in with {partner} is open:\n{link}\n\nThanks!"


def save_wording(client, cast, kind="invitation", subject="Check-in time, {name}", body=OWN_BODY,
                 action="save"):  # fmt: skip
    data = {"subject": subject, "body": body, "action": action}
    return client.post(email_url(cast, f"messages/{kind}/"), data)


def test_the_wording_page_starts_from_the_default(client, cast):
    client.force_login(cast.coordinator)
    page = client.get(email_url(cast, "messages/invitation/"))
    assert page.context["form"].initial["subject"] == "Your survey from {program}"
    assert page.context["preview"]["subject"] == "Your survey from Bridges"
    assert "It is time for the Bridges survey" in page.content.decode()


def test_saved_wording_is_what_the_next_invitation_says(client, cast, open_wave):
    client.force_login(cast.coordinator)
    reply = save_wording(client, cast)
    assert reply.status_code == 302
    template = MessageTemplate.objects.get(program=cast.program, kind="invitation")
    assert template.updated_by == cast.coordinator
    deliveries_enqueue(wave=open_wave, audience="not_invited")
    sent = next(m for m in mail.outbox if m.to == [cast.protege.email])
    name = cast.dyad.protege_name
    assert sent.subject == f"Check-in time, {name}"
    assert sent.body.startswith(f"Dear {name},") and "/invite/" in sent.body
    html = sent.alternatives[0][0]
    assert f"<p>Dear {name},</p>" in html and '<a href="http://' in html
    assert recorded("delivery.wording_changed").program == "bridges"


def test_another_programs_wording_is_not_used(client, cast, open_wave):
    MessageTemplate.objects.create(program=cast.other_program, kind="invitation",
                                   subject="Elsewhere", body="{link}")  # fmt: skip
    deliveries_enqueue(wave=open_wave, audience="not_invited")
    assert {m.subject for m in mail.outbox} == {"Your survey from Bridges"}


@pytest.mark.parametrize(
    ("subject", "body", "says"),
    [
        ("Hi {nom}", OWN_BODY, "{nom} is not a placeholder"),
        ("Hi", "Dear {name}, please answer.", "must hold {link}"),
        ("Hi", "Dear {name.__class__} {link}", "is not a placeholder"),
        ("Hi", "Dear {name {link}", "has no partner"),
    ],
)
def test_a_wrong_placeholder_is_a_clear_form_error_and_nothing_is_saved(
    client, cast, subject, body, says
):
    client.force_login(cast.coordinator)
    page = save_wording(client, cast, subject=subject, body=body)
    assert page.status_code == 200 and says in page.content.decode()
    assert page.context["preview"] is None
    assert not MessageTemplate.objects.exists()


def test_markup_in_the_wording_or_the_names_never_reaches_a_page_or_an_email(
    client, cast, open_wave
):
    cast.program.name = "<i>Bridges</i>"
    cast.program.save()
    Dyad.objects.filter(pk=cast.dyad.pk).update(protege_name="<b>Pat</b>")
    body = "<script>alert(1)</script>\n\nHello {name} of {program}: {link}"
    client.force_login(cast.coordinator)
    preview = save_wording(client, cast, body=body, action="preview")
    shown = preview.content.decode()
    assert "<script>alert(1)" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert not MessageTemplate.objects.exists()  # a preview saves nothing
    save_wording(client, cast, body=body)
    deliveries_enqueue(wave=open_wave, audience="not_invited")
    html = next(m for m in mail.outbox if m.to == [cast.protege.email]).alternatives[0][0]
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;b&gt;Pat&lt;/b&gt; of &lt;i&gt;Bridges&lt;/i&gt;" in html


def test_going_back_to_the_default_wording(client, cast):
    client.force_login(cast.coordinator)
    save_wording(client, cast, kind="reminder")
    client.post(email_url(cast, "messages/reminder/"), {"action": "reset"})
    assert not MessageTemplate.objects.exists()
    page = client.get(email_url(cast, "messages/reminder/"))
    assert page.context["form"].initial["subject"] == "Reminder: your survey from {program}"


def test_a_test_email_goes_to_the_coordinator_through_the_delivery_log(client, cast):
    client.force_login(cast.coordinator)
    save_wording(client, cast)
    url = email_url(cast, "messages/invitation/test/")
    first, second = client.post(url), client.post(url)  # a double click
    assert "on its way" in " ".join(messages_of(first))
    assert "a moment ago" in " ".join(messages_of(second))
    row = Delivery.objects.get(kind=Kind.TEST)
    assert (row.recipient, row.program, row.status) == (cast.coordinator, cast.program, "sent")
    [sent] = mail.outbox
    assert (
        sent.to == [cast.coordinator.email] and sent.subject == "[Test] Check-in time, Alex Example"
    )
    assert "Dear Alex Example," in sent.body and "Sam Example" in sent.body
    assert recorded("delivery.wording_tested").program == "bridges"


def test_a_coordinator_of_two_programs_tries_both_within_the_minute(client, cast):
    factories.CoordinatorFactory(program=cast.other_program, user=cast.coordinator)
    client.force_login(cast.coordinator)
    client.post(email_url(cast, "messages/invitation/test/"))
    client.post(f"/coordinate/{cast.other_program.slug}/email/messages/invitation/test/")
    assert sorted(m.subject for m in mail.outbox) == [
        "[Test] Your survey from Bridges",
        "[Test] Your survey from Elsewhere",
    ]


def test_an_unknown_message_kind_is_not_found(client, cast):
    client.force_login(cast.coordinator)
    assert client.get(email_url(cast, "messages/alert/")).status_code == 404
    assert client.post(email_url(cast, "messages/digest/test/")).status_code == 404


# --- schedule and alert emails -------------------------------------------------------------

SCHEDULE = {
    "enabled": "on",
    "invite_on_open": "on",
    "reminder_days_after": "7, 14",
    "reminder_days_before_close": "2",
    "max_reminders": "3",
    "send_from_hour": "9",
    "send_until_hour": "17",
    "time_zone": "Europe/Paris",
}


def test_a_program_sets_its_schedule(client, cast):
    client.force_login(cast.coordinator)
    reply = client.post(email_url(cast, "schedule/"), {**SCHEDULE, "reminder_days_after": "14,7"})
    assert reply.status_code == 302
    schedule = DeliverySchedule.objects.get(program=cast.program, wave__isnull=True)
    assert schedule.reminder_days_after == [7, 14] and schedule.time_zone == "Europe/Paris"
    event = recorded("delivery.schedule_changed")
    assert event.program == "bridges" and event.detail["enabled"] == [False, True]
    page = client.get(email_url(cast, "schedule/"))
    assert page.context["form"].initial["reminder_days_after"] == "7, 14"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"send_from_hour": "17", "send_until_hour": "9"}, "start before they end"),
        ({"reminder_days_after": "7, soon"}, "whole numbers of days"),
        ({"time_zone": "Mars/Olympus"}, "Select a valid choice"),
        ({"max_reminders": "-1"}, "greater than or equal to 0"),
    ],
)
def test_a_wrong_schedule_is_refused_with_a_clear_error(client, cast, change, says):
    client.force_login(cast.coordinator)
    page = client.post(email_url(cast, "schedule/"), {**SCHEDULE, **change})
    assert page.status_code == 200 and says in page.content.decode()
    assert not DeliverySchedule.objects.exists()


def test_switching_the_schedule_off_removes_it(client, cast):
    DeliverySchedule.objects.create(program=cast.program)
    client.force_login(cast.coordinator)
    client.post(email_url(cast, "schedule/"), {**SCHEDULE, "enabled": ""})
    assert not DeliverySchedule.objects.exists()


def test_each_coordinator_chooses_their_alert_emails(client, cast):
    colleague = factories.CoordinatorFactory(program=cast.program).user
    client.force_login(cast.coordinator)
    reply = client.post(email_url(cast, "notices/"), {"alerts": "digest"})
    assert reply.status_code == 302
    assert NotificationPreference.objects.get(user=cast.coordinator).alerts == "digest"
    assert not NotificationPreference.objects.filter(user=colleague).exists()
    page = client.get(email_url(cast, "notices/"))
    rows = {row["email"]: row["choice"] for row in page.context["notices"]["coordinators"]}
    assert rows[cast.coordinator.email] == "The weekly digest only"
    assert rows[colleague.email] == "An email for each alert, and the weekly digest"
    assert recorded("delivery.notices_changed").detail == {"alerts": "digest"}


def test_the_email_pages_are_never_cached(client, cast, open_wave):
    batch = DeliveryBatch.objects.create(wave=open_wave, audience="not_invited")
    client.force_login(cast.coordinator)
    for url in (email_url(cast, "messages/"), email_url(cast, "messages/invitation/"),
                email_url(cast, "schedule/"), email_url(cast, "notices/"),
                email_url(cast, "failed/"), cohort_url(cast, f"manage/sends/{batch.pk}/"),
                cohort_url(cast, f"manage/sends/{batch.pk}/progress.json"),
                cohort_url(cast, f"manage/waves/{open_wave.number}/send/")):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert set(response["Cache-Control"].split(", ")) == {"private", "no-store"}, url


# --- the dyad's timeline -------------------------------------------------------------------


def test_the_dyad_page_shows_each_partners_way_through_the_wave_and_no_answer(
    client, cast, open_wave
):
    deliveries_enqueue(wave=open_wave, audience="not_invited")
    invitation = Invitation.objects.get(wave=open_wave, participant=cast.protege)
    opened = timezone.now() - dt.timedelta(hours=3)
    Invitation.objects.filter(pk=invitation.pk).update(used_at=opened, last_used_at=opened)
    item = factories.ItemFactory(subscale__battery__instrument=factories.InstrumentFactory())
    response = Response.objects.create(wave=open_wave, dyad=cast.dyad, respondent=cast.protege,
                                       role="protege")  # fmt: skip
    Answer.objects.create(response=response, item=item, value=6)
    client.force_login(cast.coordinator)
    page = client.get(cohort_url(cast, f"dyads/{cast.dyad.research_code}/"))
    [step] = page.context["detail"].timeline
    mentor, protege = step["partners"]
    assert mentor["submitted"] is not None and mentor["invitation"] == {}
    assert protege["invitation"]["sent_at"] is not None and protege["submitted"] is None
    assert protege["invitation"]["used_at"] == opened and protege["first_answer"] is not None
    assert "First answer saved" in page.content.decode()
    assert Item.objects.get(pk=item.pk).code not in page.content.decode()


def test_a_failed_email_shows_on_the_dyad_page(client, cast, failed):
    client.force_login(cast.coordinator)
    page = client.get(cohort_url(cast, f"dyads/{cast.dyad.research_code}/"))
    assert page.context["detail"].timeline[0]["partners"][1]["invitation"]["failed"] == 1
    assert "1 email failed" in page.content.decode()


def test_a_test_email_renders_the_saved_wording_at_send_time(cast):
    MessageTemplate.objects.create(
        program=cast.program,
        kind="reminder",
        subject="Nudge from {program}",
        body="Hi {name}: {link}",
    )
    row = Delivery(kind=Kind.TEST, recipient=cast.coordinator, program=cast.program,
                   topic="wording/reminder")  # fmt: skip
    message = delivery_message(row, now=timezone.now())
    assert message.subject == "[Test] Nudge from Bridges" and message.body.startswith("Hi Alex")


@pytest.mark.parametrize("tail", ["failed/1/retry/", "messages/invitation/test/", "schedule/"])
def test_a_write_without_the_csrf_token_is_refused(cast, tail):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.coordinator)
    assert client.post(email_url(cast, tail), SCHEDULE).status_code == 403
    assert not Delivery.objects.exists() and not DeliverySchedule.objects.exists()
