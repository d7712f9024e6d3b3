"""Participants' rights (DESIGN §1, §7): a copy of their own data, a deletion request, and
erasure by an admin that keeps or removes answers as the program's consent says.

The copy holds the participant's own research code, name and email (it is their data)
and no one else's identity, answers or scores."""

import io
import json
import smtplib
import threading

import pandas as pd
import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import connection, models
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.models import Answer, DyadWaveResult, Invitation, Item, Response, Wave
from assessments.privacy import participant_erase
from assessments.services import results_recompute
from audit.models import AuditEvent
from relationships.models import Dyad, Participant, Program, User
from tests import factories
from tests.test_audit import admin_form_post

pytestmark = pytest.mark.django_db
PASSWORD = "continuum-demo"


@pytest.fixture
def demo(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", "--dyads", "4", "--waves", "3", verbosity=0)
    return Dyad.objects.get(mentor__user__email="mentor@example.org")


def download(client, kind: str):
    response = client.get(reverse(f"assessments:my_data_{kind}"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return response


def survey(cohort, number: int = 1) -> tuple[Wave, list[Item]]:
    """An open wave of a three-item instrument whose items are worded per side."""
    wave = factories.WaveFactory(cohort=cohort, number=number)
    subscale = factories.SubscaleFactory(battery__instrument=wave.instrument)
    items = [
        factories.ItemFactory(subscale=subscale, code=f"REL-TC-{n}", order=n,
                              text_mentor=f"As mentor, statement {n}",
                              text_protege=f"As protégé, statement {n}")
        for n in (1, 2, 3)
    ]  # fmt: skip
    return wave, items


def submitted(dyad, wave, role: str, items, value: int) -> Response:
    response = factories.ResponseFactory(
        dyad=dyad, wave=wave, role=role, status="submitted", submitted_at=timezone.now()
    )
    for item in items:
        factories.AnswerFactory(response=response, item=item, value=value)
    return response


def answered_waves(cast, numbers) -> None:
    """Both partners of the cast's dyad submit each of these waves; results are stored."""
    for number in numbers:
        wave, items = survey(cast.cohort, number)
        submitted(cast.dyad, wave, "mentor", items, 5)
        submitted(cast.dyad, wave, "protege", items, 4)
    results_recompute(cohort=cast.cohort)


def test_the_json_copy_holds_exactly_the_participants_own_answers(client, demo):
    client.force_login(demo.mentor.user)
    data = json.loads(download(client, "json").content)
    own = Answer.objects.filter(response__respondent=demo.mentor)
    assert len(data["answers"]) == own.count() > 0
    assert {a["role"] for a in data["answers"]} == {"mentor"}
    assert {a["dyad"] for a in data["answers"]} == {demo.research_code}
    first = data["answers"][0]
    assert first["item_text"] == Item.objects.get(code=first["item"]).text_mentor
    assert data["participant"] == {
        "research_code": demo.mentor.research_code,
        "name": demo.mentor.name,
        "email": "mentor@example.org",
    }
    assert {s["role"] for s in data["scores"]} == {"mentor"} and "REL" in data["scores"][0]
    assert set(data["scores"][0]["subscales"]) >= {"REL-TC", "CAR-SP"}


def test_a_person_in_two_dyads_gets_both_roles_and_nobody_elses_answers(client, cast):
    wave, items = survey(cast.cohort)
    second = factories.DyadFactory(cohort=cast.cohort, protege=cast.mentor)
    submitted(cast.dyad, wave, "mentor", items, 5)
    submitted(cast.dyad, wave, "protege", items, 2)
    submitted(second, wave, "protege", items, 6)
    submitted(second, wave, "mentor", items, 3)
    submitted(cast.other_dyad, wave, "mentor", items, 1)
    client.force_login(cast.mentor.user)
    data = json.loads(download(client, "json").content)
    got = {(a["dyad"], a["role"], a["item"], a["value"], a["item_text"]) for a in data["answers"]}
    assert got == {
        *((cast.dyad.research_code, "mentor", i.code, 5, i.text_mentor) for i in items),
        *((second.research_code, "protege", i.code, 6, i.text_protege) for i in items),
    }


def test_the_copy_never_holds_the_partners_answers_or_identity(client, demo):
    # Nobody else's code, name or email appears: not the partner's, not any other person's.
    client.force_login(demo.mentor.user)
    others = Participant.objects.exclude(pk=demo.mentor.pk).select_related("user")
    for kind in ("json", "csv"):
        text = download(client, kind).content.decode()
        for other in others:
            assert other.research_code not in text
            assert (other.name or "@@") not in text and (other.email or "@@") not in text
        for user in User.objects.exclude(pk=demo.mentor.user_id):
            assert user.email not in text


def test_the_position_is_left_out_unless_the_program_shares_partner_scores(client, demo):
    # The position is the dyad's mean REL: with one's own REL it gives the partner's away.
    client.force_login(demo.mentor.user)
    placed = DyadWaveResult.objects.filter(dyad=demo, position__isnull=False)
    assert placed.exists()
    scores = json.loads(download(client, "json").content)["scores"]
    assert {s["position"] for s in scores} == {None}
    assert {s["state"] for s in scores} == set(placed.values_list("state", flat=True))
    Program.objects.filter(pk=demo.cohort.program_id).update(share_partner_scores=True)
    scores = json.loads(download(client, "json").content)["scores"]
    assert {s["position"] for s in scores} == set(placed.values_list("position", flat=True))


def test_the_csv_copy_reads_with_pandas(client, demo):
    client.force_login(demo.mentor.user)
    frame = pd.read_csv(io.BytesIO(download(client, "csv").content))
    assert list(frame.columns)[:6] == ["program", "cohort", "wave", "dyad", "role", "record"]
    answers = frame[frame["record"] == "answer"]
    assert len(answers) == Answer.objects.filter(response__respondent=demo.mentor).count()
    assert frame["value"].dtype == float and set(frame["role"]) == {"mentor"}
    rel = frame[(frame["record"] == "score") & (frame["code"] == "REL")]
    stored = DyadWaveResult.objects.filter(dyad=demo, mentor_submitted=True)
    assert sorted(rel["value"]) == pytest.approx(sorted(r.rel_mentor for r in stored), abs=1e-4)
    assert "REL-TC" in set(frame["code"])
    states = frame[frame["code"] == "state"]
    assert set(states["text"]) == {r.state for r in stored}


def test_csv_cells_that_look_like_formulas_are_neutralised(client, cast):
    wave, items = survey(cast.cohort)
    Item.objects.filter(pk=items[0].pk).update(text_mentor='=HYPERLINK("http://x")')
    submitted(cast.dyad, wave, "mentor", items, 4)
    client.force_login(cast.mentor.user)
    frame = pd.read_csv(io.BytesIO(download(client, "csv").content))
    assert '\'=HYPERLINK("http://x")' in set(frame["text"])
    assert not frame["text"].dropna().str.startswith(("=", "+", "-", "@")).any()


def test_the_download_is_audited_and_its_queries_do_not_grow_with_waves(client, cast):
    client.force_login(cast.mentor.user)
    answered_waves(cast, (1, 2))
    with CaptureQueriesContext(connection) as two_waves:
        small = json.loads(download(client, "json").content)
    answered_waves(cast, (3, 4, 5, 6))
    with CaptureQueriesContext(connection) as six_waves:
        large = json.loads(download(client, "json").content)
    assert (len(small["answers"]), len(large["answers"])) == (6, 18)
    assert [s["wave"] for s in large["scores"]] == [1, 2, 3, 4, 5, 6]
    assert len(six_waves) == len(two_waves)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DATA_DOWNLOAD).count() == 2


def test_the_copy_is_not_kept_in_caches(client, cast):
    client.force_login(cast.mentor.user)
    for name in ("my_data", "my_data_json", "my_data_csv"):
        response = client.get(reverse(f"assessments:{name}"))
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_anonymous_visitors_are_sent_to_sign_in_and_cannot_ask_for_deletion(client, cast):
    for name in ("my_data", "my_data_json", "my_data_csv"):
        response = client.get(reverse(f"assessments:{name}"))
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    response = client.post(reverse("assessments:my_data"), {"confirm": "yes"})
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert not Participant.objects.filter(deletion_requested_at__isnull=False).exists()


def test_asking_for_deletion_records_it_once_and_tells_the_admins(client, demo):
    client.force_login(demo.mentor.user)
    url = reverse("assessments:my_data")
    assert "Ask for deletion" in client.get(url).text
    client.post(url, {})  # no confirmation: nothing happens
    assert Participant.objects.get(pk=demo.mentor.pk).deletion_requested_at is None
    client.post(url, {"confirm": "yes"})
    client.post(url, {"confirm": "yes"})
    assert Participant.objects.get(pk=demo.mentor.pk).deletion_requested_at is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["admin@example.org"]
    assert demo.mentor.research_code in mail.outbox[0].body
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DELETION_REQUEST).count() == 1
    page = client.get(url).text
    assert "you asked for deletion" in page.lower() and 'name="confirm"' not in page


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("down")


def test_a_deletion_request_stands_when_the_mail_cannot_be_sent(client, cast, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    client.force_login(cast.mentor.user)
    response = client.post(reverse("assessments:my_data"), {"confirm": "yes"}, follow=True)
    assert response.status_code == 200 and "request is recorded" in response.text
    assert Participant.objects.get(pk=cast.mentor.pk).deletion_requested_at is not None


def test_pending_requests_are_listed_for_admins(client, cast):
    Participant.objects.filter(pk=cast.mentor.pk).update(deletion_requested_at=timezone.now())
    Participant.objects.filter(pk=cast.protege.pk).update(
        deletion_requested_at=timezone.now(), erased_at=timezone.now()
    )
    client.force_login(cast.admin)
    page = client.get(reverse("admin:relationships_participant_changelist"), {"deletion": "asked"})
    assert cast.mentor.research_code in page.text
    assert cast.protege.research_code not in page.text
    assert cast.outsider.research_code not in page.text


def rows_mentioning(text: str) -> list[str]:
    """Every table and column of the project's models that holds ``text`` somewhere."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            kind = field.get_internal_type()
            if kind in ("CharField", "TextField", "EmailField", "JSONField"):
                rows = model._default_manager.annotate(_text=Cast(field.name, models.TextField()))
                if rows.filter(_text__icontains=text).exists():
                    found.append(f"{model._meta.label}.{field.name}")
    return found


def test_erasure_with_consent_keeps_the_answers_under_the_code(client, demo):
    person, email = demo.mentor, demo.mentor.user.email
    own, given = "Quillon Erasmé", "Quill E. as the program names him"
    Participant.objects.filter(pk=person.pk).update(name=own)
    Dyad.objects.filter(pk=demo.pk).update(mentor_name=given)
    client.post(reverse("login"), {"username": email, "password": "wrong"})
    answers = Answer.objects.filter(response__respondent=person).count()
    done = participant_erase(participant=person)
    assert done.answers_removed == 0 and done.research_code == person.research_code
    person.refresh_from_db()
    assert person.user is None and person.name == "" and person.erased_at is not None
    assert Answer.objects.filter(response__respondent=person).count() == answers
    assert rows_mentioning(email) == [] and not AccessAttempt.objects.exists()
    assert rows_mentioning(own) == rows_mentioning(given) == []
    demo.refresh_from_db()
    assert demo.mentor_name == "" and demo.protege_name == demo.protege.name != ""
    assert not Invitation.objects.filter(participant=person, revoked_at__isnull=True).exists()
    assert not User.objects.filter(email=email).exists()
    response = client.post(reverse("login"), {"username": email, "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def add_dyad_in_cohort_admin(client, cast) -> None:
    """The admin adds a dyad of the cast's mentor through the cohort page's inline."""
    url = reverse("admin:relationships_cohort_change", args=[cast.cohort.pk])
    formset = client.get(url).context["inline_admin_formsets"][0].formset
    prefix = formset.prefix
    data = {"program": cast.program.pk, "name": cast.cohort.name, "slug": cast.cohort.slug,
            "started_on": cast.cohort.started_on.isoformat(),
            f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-mentor": cast.mentor.pk, f"{prefix}-0-protege": cast.outsider.pk,
            f"{prefix}-0-kind": "formal", f"{prefix}-0-is_active": "on"}  # fmt: skip
    assert client.post(url, data).status_code == 302


def test_erasure_leaves_the_name_and_email_nowhere_in_the_admin_history(client, cast):
    name, email = "Zoë Quillfeather", cast.mentor.user.email
    escaped = json.dumps(name)[1:-1]  # how JSON text written by Django holds it
    client.force_login(cast.admin)
    url = reverse("admin:relationships_participant_change", args=[cast.mentor.pk])
    fields = {"user": cast.mentor.user_id, "name": name, "gender": "", "race_ethnicity": "",
              "gender_self_description": ""}  # fmt: skip
    assert admin_form_post(client, url, fields).status_code == 302
    add_dyad_in_cohort_admin(client, cast)
    client.logout()
    client.post(reverse("login"), {"username": email, "password": "wrong"})
    assert "admin.LogEntry.object_repr" in rows_mentioning(name)
    assert "admin.LogEntry.change_message" in rows_mentioning(escaped)
    assert "audit.AuditEvent.target" in rows_mentioning(email)

    participant_erase(participant=cast.mentor, actor=cast.admin)

    assert rows_mentioning(name) == rows_mentioning(escaped) == rows_mentioning(email) == []
    label = f"erased participant {cast.mentor.research_code}"
    entries = LogEntry.objects.filter(content_type__app_label="relationships")
    person_entry = entries.get(content_type__model="participant", object_id=str(cast.mentor.pk))
    assert person_entry.object_repr == label
    cohort_entry = entries.get(content_type__model="cohort", object_id=str(cast.cohort.pk))
    assert label in cohort_entry.get_change_message()


def test_an_erased_persons_open_session_stops_working(client, cast):
    client.force_login(cast.mentor.user)
    assert client.get(reverse("assessments:my_data")).status_code == 200
    participant_erase(participant=cast.mentor, actor=cast.admin)
    response = client.get(reverse("assessments:my_data"))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_erasure_without_consent_removes_the_answers_and_rescores_the_dyad(demo):
    Program.objects.filter(pk=demo.cohort.program_id).update(keep_research_data_on_erasure=False)
    person = Participant.objects.get(pk=demo.mentor_id)
    wave = Wave.objects.get(cohort=demo.cohort, number=1)
    before = DyadWaveResult.objects.get(dyad=demo, wave=wave)
    assert before.mentor_submitted and before.state != "unplaced"
    done = participant_erase(participant=person)
    assert done.answers_removed > 0 and done.results_recomputed > 0
    assert not Response.objects.filter(respondent=person).exists()
    result = DyadWaveResult.objects.get(dyad=demo, wave=wave)
    assert not result.mentor_submitted and result.rel_mentor is None
    assert result.state == "unplaced" and result.protege_submitted
    assert result.rel_protege == pytest.approx(before.rel_protege)
    assert result.subscales["protege"] == pytest.approx(before.subscales["protege"])


def test_erasure_is_idempotent_and_audited(demo):
    person = demo.protege
    participant_erase(participant=person)
    again = participant_erase(participant=Participant.objects.get(pk=person.pk))
    assert again.already_erased
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ERASURE).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are exercised on PostgreSQL"
)
def test_two_admins_erasing_at_once_erase_once(cast):
    start, outcomes = threading.Barrier(2), []

    def erase() -> None:
        start.wait()
        try:
            person = Participant.objects.get(pk=cast.mentor.pk)
            outcomes.append(participant_erase(participant=person, actor=cast.admin).already_erased)
        finally:
            connection.close()

    threads = [threading.Thread(target=erase) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, True]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ERASURE).count() == 1


def test_an_admin_erases_from_the_participant_list_after_confirming(client, demo):
    client.force_login(User.objects.get(email="admin@example.org"))
    url = reverse("admin:relationships_participant_changelist")
    chosen = {"action": "erase", "_selected_action": [demo.protege_id]}
    confirm = client.post(url, chosen)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    assert demo.protege.research_code in confirm.text
    assert Participant.objects.get(pk=demo.protege_id).erased_at is None
    done = client.post(url, {**chosen, "confirm": "yes"}, follow=True)
    assert f"{demo.protege.research_code} erased: 0 answers removed" in done.text
    assert Participant.objects.get(pk=demo.protege_id).erased_at is not None


def test_a_coordinator_cannot_erase(client, demo):
    client.force_login(User.objects.get(email="coordinator@example.org"))
    url = reverse("admin:relationships_participant_changelist")
    client.post(url, {"action": "erase", "_selected_action": [demo.protege_id], "confirm": "yes"})
    assert Participant.objects.get(pk=demo.protege_id).erased_at is None
