"""Invitation links: one stable link per invitation that works until the wave is
submitted; anything odd about a link is refused clearly (DESIGN §7)."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assessments.models import Answer, Invitation, Response, Wave
from assessments.tokens import invitation_token, invitation_url, token_revoke
from relationships.models import Dyad

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", "--dyads", "4", "--waves", "2", verbosity=0)
    return Wave.objects.get(cohort__program__slug="demo", number=2)


def invitation_of(wave, email: str) -> Invitation:
    dyad = Dyad.objects.filter(cohort=wave.cohort, mentor__user__email=email).first() or (
        Dyad.objects.get(cohort=wave.cohort, protege__user__email=email)
    )
    person = dyad.mentor if dyad.mentor.user.email == email else dyad.protege
    found, _ = Invitation.objects.get_or_create(wave=wave, dyad=dyad, participant=person)
    return found


def link(invitation) -> str:
    return reverse("assessments:magic_link", args=[invitation_token(invitation)])


def test_the_emailed_link_is_absolute_on_the_served_address(wave, settings):
    settings.SITE_URL = "http://127.0.0.1:8101"
    invitation = invitation_of(wave, "mentor@example.org")
    assert invitation_url(invitation) == "http://127.0.0.1:8101" + link(invitation)


def test_nothing_secret_is_stored(wave):
    invitation = invitation_of(wave, "mentor@example.org")
    signature = invitation_token(invitation).split("-", 1)[1]
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert not any(signature in str(value) for value in stored.values())


def test_opening_a_link_changes_nothing_and_the_button_signs_in(client, wave):
    invitation = invitation_of(wave, "mentor@example.org")
    for _ in range(3):  # mail scanners may open it many times
        assert "Continue to your survey" in client.get(link(invitation)).text
    assert "_auth_user_id" not in client.session
    invitation.refresh_from_db()
    assert invitation.used_at is None
    reply = client.post(link(invitation))
    assert reply.status_code == 302 and "/me/survey/" in reply.url
    assert client.get(reply.url, follow=True).status_code == 200
    invitation.refresh_from_db()
    assert invitation.used_at is not None


def test_a_link_works_again_on_any_device_until_the_wave_is_submitted(client, wave):
    invitation = invitation_of(wave, "mentor@example.org")
    for _ in range(3):  # three devices, or the same one after the session ended
        client.logout()
        reply = client.post(link(invitation))
        assert reply.status_code == 302 and "/me/survey/" in reply.url
        assert client.get(reply.url).status_code == 302  # on to the first unanswered page


def test_a_link_of_someone_already_signed_in_keeps_the_full_session(client, wave):
    invitation = invitation_of(wave, "mentor@example.org")
    client.force_login(invitation.participant.user)
    client.post(link(invitation))
    assert client.get("/me/data/").status_code == 200


def test_every_email_of_an_invitation_carries_the_same_link(wave):
    invitation = invitation_of(wave, "mentor@example.org")
    first = invitation_url(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(reminder_count=2, sent_at=timezone.now())
    assert invitation_url(Invitation.objects.get(pk=invitation.pk)) == first


def test_a_link_survives_a_key_rotation_while_the_old_key_is_a_fallback(client, wave, settings):
    invitation = invitation_of(wave, "mentor@example.org")
    old = link(invitation)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-after-rotation-" + "x" * 30
    assert client.get(old).status_code == 200
    settings.SECRET_KEY_FALLBACKS = []
    assert client.get(old).status_code == 400


def test_a_tampered_link_is_refused(client, wave):
    token = invitation_token(invitation_of(wave, "mentor@example.org"))
    other = invitation_of(wave, "protege@example.org")
    signature = token.split("-", 1)[1]
    bad = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for raw in (bad, f"{other.pk}-{signature}", f"999999-{signature}", "x", token + "A"):
        reply = client.get(reverse("assessments:magic_link", args=[raw]))
        assert reply.status_code == 400 and "not valid" in reply.text


def test_a_revoked_link_is_refused_with_a_clear_page(client, wave):
    invitation = invitation_of(wave, "mentor@example.org")
    old = link(invitation)
    token_revoke(invitation=invitation)
    for method in (client.get, client.post):
        reply = method(old)
        assert reply.status_code == 410 and "withdrawn" in reply.text
    assert "_auth_user_id" not in client.session


def test_a_link_expires_when_the_wave_closes(client, wave):
    invitation = invitation_of(wave, "mentor@example.org")
    Wave.objects.filter(pk=wave.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    reply = client.get(link(invitation))
    assert reply.status_code == 410 and "closed" in reply.text


def test_a_submitted_response_cannot_be_changed_through_its_link(client, wave):
    submitted = Response.objects.submitted().filter(wave=wave).select_related("dyad").first()
    invitation, _ = Invitation.objects.get_or_create(
        wave=wave, dyad=submitted.dyad, participant=submitted.respondent
    )
    before = dict(Answer.objects.filter(response=submitted).values_list("item__code", "value"))
    code, number = submitted.dyad.research_code, wave.number
    assert "See your results" in client.get(link(invitation)).text
    reply = client.post(link(invitation))
    assert reply.status_code == 302 and reply.url == f"/me/results/{code}/{number}/"
    page = client.get(f"/me/survey/{code}/{number}/page/1/")
    item, value = next(iter(before.items()))
    other = "1" if value != 1 else "2"
    client.post(f"/me/survey/{code}/{number}/page/1/", {item: other, "next": "1"})
    client.post(f"/me/survey/{code}/{number}/autosave/", {item: other})
    after = dict(Answer.objects.filter(response=submitted).values_list("item__code", "value"))
    assert after == before
    assert page.status_code in (200, 302)
    assert client.get(f"/me/results/{code}/{number}/").status_code == 200


def test_the_commands_report_what_they_sent(wave, capsys):
    call_command("send_invitations", "--wave", str(wave.pk))
    assert "invitations" in capsys.readouterr().out
    call_command("send_reminders", "--wave", str(wave.pk))
    assert "reminders" in capsys.readouterr().out
