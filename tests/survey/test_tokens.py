"""Invitations carry one-time magic links; anything odd about a link is refused clearly."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from assessments.invitations import invitations_send, reminders_send
from assessments.models import Invitation, Wave
from assessments.tokens import token_hash, token_revoke
from relationships.models import Dyad

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", "--dyads", "4", "--waves", "2")
    return Wave.objects.get(cohort__program__slug="demo", number=2)


def link_for(email: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [email])
    return re.search(r"http://[^\s]+/invite/([^/\s]+)/", message.body).group(0)


def path(link: str) -> str:
    return link.split("8000", 1)[1]


def test_invitations_mail_every_partner_a_link_and_record_the_send(wave):
    sent = invitations_send(wave=wave)
    assert sent == 8 == len(mail.outbox)
    message = mail.outbox[0]
    assert message.alternatives and "/invite/" in message.alternatives[0][0]
    assert Invitation.objects.filter(wave=wave, sent_at__isnull=False).count() == 8


def test_only_hashes_are_stored(wave):
    invitations_send(wave=wave)
    raw = link_for("mentor@example.org").rstrip("/").rsplit("/", 1)[1]
    stored = Invitation.objects.get(participant__user__email="mentor@example.org", wave=wave)
    assert stored.token_hash == token_hash(raw) and raw not in stored.token_hash


def test_opening_a_link_changes_nothing_and_the_button_signs_in(client, wave):
    invitations_send(wave=wave)
    link = path(link_for("mentor@example.org"))
    for _ in range(3):  # mail scanners may open it many times
        assert "Continue to your survey" in client.get(link).text
    assert Invitation.objects.filter(used_at__isnull=False).count() == 0
    reply = client.post(link)
    assert reply.status_code == 302 and "/me/survey/" in reply.url
    assert client.get(reply.url, follow=True).status_code == 200


def test_a_used_link_is_refused(client, wave):
    invitations_send(wave=wave)
    link = path(link_for("mentor@example.org"))
    client.post(link)
    client.logout()
    again = client.post(link)
    assert again.status_code == 410 and "already been used" in again.text


def test_a_tampered_link_is_refused(client, wave):
    invitations_send(wave=wave)
    link = path(link_for("mentor@example.org"))
    tampered = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]
    reply = client.get(tampered)
    assert reply.status_code == 400 and "not valid" in reply.text


def test_a_revoked_link_is_refused(client, wave):
    invitations_send(wave=wave)
    link = path(link_for("mentor@example.org"))
    token_revoke(invitation=Invitation.objects.get(participant__user__email="mentor@example.org"))
    reply = client.post(link)
    assert reply.status_code == 410 and "withdrawn" in reply.text


def test_a_link_expires_when_the_wave_closes(client, wave):
    invitations_send(wave=wave)
    link = path(link_for("mentor@example.org"))
    Wave.objects.filter(pk=wave.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    reply = client.get(link)
    assert reply.status_code == 410 and "closed" in reply.text


def test_reminders_skip_partners_who_submitted_and_replace_old_links(client, wave):
    invitations_send(wave=wave)
    old = path(link_for("mentor@example.org"))
    submitted = {
        (d.pk, p.pk)
        for d in Dyad.objects.all()
        for p in (d.mentor, d.protege)
        if d.responses.filter(wave=wave, respondent=p, status="submitted").exists()
    }
    mail.outbox.clear()
    assert reminders_send(wave=wave) == 8 - len(submitted) == len(mail.outbox)
    assert client.get(old).status_code == 400
    reminded = Invitation.objects.filter(wave=wave, reminder_count=1)
    assert reminded.count() == 8 - len(submitted)


def test_the_commands_report_what_they_sent(wave, capsys):
    call_command("send_invitations", "--wave", str(wave.pk))
    assert "8 invitations sent" in capsys.readouterr().out
    call_command("send_reminders", "--wave", str(wave.pk))
    assert "reminders sent" in capsys.readouterr().out


def test_a_forgotten_password_is_reset_by_email(client, wave):
    reply = client.post("/accounts/password/reset/", {"email": "mentor@example.org"})
    assert reply.status_code == 302
    assert mail.outbox[-1].to == ["mentor@example.org"]
    assert "/accounts/password/reset/" in mail.outbox[-1].body
