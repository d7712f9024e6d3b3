"""Participants' rights (DESIGN §1, §7): a copy of their own data, a deletion request, and
erasure by an admin that keeps or removes answers as the program's consent says."""

import io
import json

import pandas as pd
import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Answer, DyadWaveResult, Invitation, Item, Response, Wave
from assessments.privacy_services import participant_erase
from audit.models import AuditEvent
from relationships.models import Dyad, Participant, Program, User

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


def test_the_json_copy_holds_exactly_the_participants_own_answers(client, demo):
    client.force_login(demo.mentor.user)
    data = json.loads(download(client, "json").content)
    own = Answer.objects.filter(response__respondent=demo.mentor)
    assert len(data["answers"]) == own.count() > 0
    assert {a["role"] for a in data["answers"]} == {"mentor"}
    assert {a["dyad"] for a in data["answers"]} == {demo.research_code}
    first = data["answers"][0]
    assert first["item_text"] == Item.objects.get(code=first["item"]).text_mentor
    assert data["participant"]["research_code"] == demo.mentor.research_code
    assert {s["role"] for s in data["scores"]} == {"mentor"} and "REL" in data["scores"][0]


def test_the_copy_never_holds_the_partners_answers_or_identity(client, demo):
    client.force_login(demo.mentor.user)
    for kind in ("json", "csv"):
        text = download(client, kind).content.decode()
        assert demo.protege.user.email not in text and demo.protege.name not in text
        assert demo.protege.research_code not in text


def test_the_csv_copy_reads_with_pandas(client, demo):
    client.force_login(demo.mentor.user)
    answers_part = download(client, "csv").content.decode().split("\r\n\r\n")[0]
    frame = pd.read_csv(io.StringIO(answers_part))
    assert list(frame.columns)[:5] == ["program", "cohort", "wave", "dyad", "role"]
    assert len(frame) == Answer.objects.filter(response__respondent=demo.mentor).count()


def test_the_download_is_audited_and_its_queries_do_not_grow_with_waves(client, demo):
    client.force_login(demo.mentor.user)
    with CaptureQueriesContext(connection) as three_waves:
        download(client, "json")
    call_command("seed_demo", "--dyads", "4", "--waves", "6", verbosity=0)
    with CaptureQueriesContext(connection) as six_waves:
        download(client, "json")
    assert len(six_waves) == len(three_waves)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DATA_DOWNLOAD).count() == 2


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


def rows_mentioning(text: str) -> list[str]:
    """Every table and column of the project's models that holds ``text`` somewhere."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.get_internal_type() in ("CharField", "TextField", "EmailField"):
                if model._default_manager.filter(**{f"{field.name}__icontains": text}).exists():
                    found.append(f"{model._meta.label}.{field.name}")
    return found


def test_erasure_with_consent_keeps_the_answers_under_the_code(client, demo):
    person, email = demo.mentor, demo.mentor.user.email
    client.post(reverse("login"), {"username": email, "password": "wrong"})
    answers = Answer.objects.filter(response__respondent=person).count()
    done = participant_erase(participant=person)
    assert done.answers_removed == 0 and done.research_code == person.research_code
    person.refresh_from_db()
    assert person.user is None and person.name == "" and person.erased_at is not None
    assert Answer.objects.filter(response__respondent=person).count() == answers
    assert rows_mentioning(email) == [] and not AccessAttempt.objects.exists()
    assert not Invitation.objects.filter(participant=person, revoked_at__isnull=True).exists()
    assert not User.objects.filter(email=email).exists()
    response = client.post(reverse("login"), {"username": email, "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_erasure_without_consent_removes_the_answers_and_rescores_the_dyad(demo):
    Program.objects.filter(pk=demo.cohort.program_id).update(keep_research_data_on_erasure=False)
    person = Participant.objects.get(pk=demo.mentor_id)
    wave = Wave.objects.get(cohort=demo.cohort, number=1)
    assert DyadWaveResult.objects.get(dyad=demo, wave=wave).mentor_submitted
    done = participant_erase(participant=person)
    assert done.answers_removed > 0 and done.results_recomputed > 0
    assert not Response.objects.filter(respondent=person).exists()
    result = DyadWaveResult.objects.get(dyad=demo, wave=wave)
    assert not result.mentor_submitted and result.rel_mentor is None
    assert result.state == "unplaced" and result.protege_submitted


def test_erasure_is_idempotent_and_audited(demo):
    person = demo.protege
    participant_erase(participant=person)
    again = participant_erase(participant=Participant.objects.get(pk=person.pk))
    assert again.already_erased
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ERASURE).count() == 1


def test_an_admin_erases_from_the_participant_list_after_confirming(client, demo):
    client.force_login(User.objects.get(email="admin@example.org"))
    url = reverse("admin:relationships_participant_changelist")
    chosen = {"action": "erase", "_selected_action": [demo.protege_id]}
    confirm = client.post(url, chosen)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    assert Participant.objects.get(pk=demo.protege_id).erased_at is None
    done = client.post(url, {**chosen, "confirm": "yes"}, follow=True)
    assert "erased" in done.text
    assert Participant.objects.get(pk=demo.protege_id).erased_at is not None


def test_a_coordinator_cannot_erase(client, demo):
    client.force_login(User.objects.get(email="coordinator@example.org"))
    url = reverse("admin:relationships_participant_changelist")
    client.post(url, {"action": "erase", "_selected_action": [demo.protege_id], "confirm": "yes"})
    assert Participant.objects.get(pk=demo.protege_id).erased_at is None
