"""Getting back in: email sign-in links, passwords without an old one, the scope of an
invitation link, throttles, and where each person lands (DESIGN §7)."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from assessments.models import Invitation, Wave
from assessments.survey.accounts import signin_tokens
from assessments.tokens import invitation_token
from relationships.models import Dyad, Participant, User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()  # the throttles' counters
    call_command("seed_demo", "--dyads", "4", "--waves", "2", verbosity=0)
    return Wave.objects.get(cohort__program__slug="demo", number=2)


@pytest.fixture
def newcomer(wave):
    """A protégé added by a coordinator: an account without a usable password."""
    dyad = (
        Dyad.objects.filter(cohort=wave.cohort)
        .exclude(protege__user__email="protege@example.org")
        .first()
    )
    user = dyad.protege.user
    user.set_unusable_password()
    user.save()
    return user


def ask_for_link(client, email: str):
    return client.post(reverse("signin_link"), {"email": email})


def emailed_link(email: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [email])
    return re.search(r"https?://[^/\s]+(/accounts/link/[^\s]+/)", message.body).group(1)


def test_known_and_unknown_addresses_get_the_same_answer(client, wave):
    known = ask_for_link(client, "protege@example.org")
    unknown = ask_for_link(client, "nobody-here@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    assert without_csrf(client.get(known.url).text) == without_csrf(client.get(unknown.url).text)
    assert [m.to for m in mail.outbox] == [["protege@example.org"]]


def without_csrf(page: str) -> str:
    """The page without its CSRF token (the language switcher's), masked anew per request."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def test_staff_and_coordinators_get_no_sign_in_link(client, wave):
    staff = factories.UserFactory(email="staff-person@example.org", is_staff=True)
    Participant.objects.filter(user__email="mentor@example.org").update(user=staff)
    for email in ("staff-person@example.org", "admin@example.org", "coordinator@example.org"):
        assert ask_for_link(client, email).status_code == 302
    assert mail.outbox == []


def test_an_emailed_link_signs_in_once_after_the_button(client, wave):
    ask_for_link(client, "Protege@Example.org")
    link = emailed_link("protege@example.org")
    assert "Sign in" in client.get(link).text
    assert "_auth_user_id" not in client.session  # opening changes nothing
    reply = client.post(link)
    assert reply.status_code == 302 and reply.url == reverse("landing")
    assert client.get(reply.url).url == reverse("assessments:home")
    client.logout()
    again = client.post(link)
    assert again.status_code == 410 and "already used" in again.text


def test_an_emailed_link_expires(client, wave, settings, monkeypatch):
    ask_for_link(client, "protege@example.org")
    link = emailed_link("protege@example.org")
    later = dt.datetime.now() + dt.timedelta(minutes=settings.SIGNIN_LINK_MINUTES, seconds=5)
    monkeypatch.setattr(signin_tokens, "_now", lambda: later)
    reply = client.post(link)
    assert reply.status_code == 410 and "_auth_user_id" not in client.session


def test_a_participant_signed_in_by_email_sets_a_password_without_an_old_one(
    client, wave, newcomer
):
    ask_for_link(client, newcomer.email)
    client.post(emailed_link(newcomer.email))
    page = client.get(reverse("password_change"))
    assert "old_password" not in page.text and "no old password is needed" in page.text
    new = "a-long-pass-phrase-for-tests"
    saved = client.post(reverse("password_change"), {"new_password1": new, "new_password2": new})
    assert saved.status_code == 302
    client.logout()
    again = client.post(reverse("login"), {"username": newcomer.email, "password": new})
    assert again.status_code == 302 and client.session["_auth_user_id"] == str(newcomer.pk)


def test_a_password_session_still_needs_the_old_password(client, wave):
    client.post(reverse("login"), {"username": "mentor@example.org", "password": "continuum-demo"})
    assert "old_password" in client.get(reverse("password_change")).text


def test_the_reset_form_mails_accounts_that_never_had_a_password(client, wave, newcomer):
    reply = client.post(reverse("password_reset"), {"email": newcomer.email})
    assert reply.status_code == 302
    assert mail.outbox[-1].to == [newcomer.email]
    assert "/accounts/password/reset/" in mail.outbox[-1].body


def test_sign_in_link_requests_are_throttled_per_address(client, wave):
    answers = [ask_for_link(client, "protege@example.org").status_code for _ in range(6)]
    assert answers == [302] * 5 + [429]
    assert len(mail.outbox) == 5
    assert "Too many requests" in ask_for_link(client, "protege@example.org").text


def test_the_throttle_holds_through_the_shared_redis_cache(client, wave, settings):
    """Several app servers share their counters in Redis (``REDIS_URL``): the same limit,
    and a counter that expires with its period."""
    from django.core.cache import caches

    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache",
                    "LOCATION": "redis://127.0.0.1:6379/15"},
    }  # fmt: skip
    shared = caches["default"]
    shared.clear()
    try:
        answers = [ask_for_link(client, "protege@example.org").status_code for _ in range(6)]
        assert answers == [302] * 5 + [429]
        counters = shared.keys("*")
        assert counters and all(0 < shared.ttl(key) <= 3600 + 60 for key in counters)
    finally:
        shared.clear()


def test_sign_in_link_requests_are_throttled_per_client(client, wave):
    answers = [ask_for_link(client, f"p{n}@example.org").status_code for n in range(21)]
    assert answers == [302] * 20 + [429]


def test_password_resets_are_throttled_per_address(client, wave):
    answers = [
        client.post(reverse("password_reset"), {"email": "mentor@example.org"}).status_code
        for _ in range(6)
    ]
    assert answers == [302] * 5 + [429]
    assert len(mail.outbox) == 5


def test_invitation_link_sign_ins_are_throttled_per_client(client, wave):
    bad = reverse("assessments:magic_link", args=["1-" + "A" * 43])
    answers = [client.post(bad).status_code for _ in range(21)]
    assert answers[:20] == [400] * 20 and answers[20] == 429


def scoped_client(client, wave, email="mentor@example.org"):
    dyad = Dyad.objects.get(cohort=wave.cohort, mentor__user__email=email)
    invitation, _ = Invitation.objects.get_or_create(wave=wave, dyad=dyad, participant=dyad.mentor)
    client.post(reverse("assessments:magic_link", args=[invitation_token(invitation)]))
    return dyad


def test_an_invitation_link_opens_that_survey_only(client, wave):
    dyad = scoped_client(client, wave)
    code = dyad.research_code
    assert client.get(f"/me/survey/{code}/2/page/1/").status_code == 200
    assert client.get(reverse("assessments:home")).url == f"/me/survey/{code}/2/"
    for elsewhere in (
        "/me/data/",
        "/me/data/download.json",
        reverse("password_change"),
        f"/me/survey/{code}/1/page/1/",
        f"/me/results/{code}/1/",
    ):
        reply = client.get(elsewhere)
        assert reply.status_code == 302, elsewhere
        assert reply.url.startswith(reverse("signin_link")), elsewhere


def test_a_full_sign_in_lifts_the_scope(client, wave):
    scoped_client(client, wave)
    client.post(reverse("login"), {"username": "mentor@example.org", "password": "continuum-demo"})
    assert client.get("/me/data/").status_code == 200


@pytest.mark.parametrize(
    ("email", "lands"),
    [
        ("mentor@example.org", "/me/"),
        ("coordinator@example.org", "/coordinate/"),
        ("admin@example.org", "/admin/"),
    ],
)
def test_each_person_lands_where_they_work(client, wave, email, lands):
    reply = client.post(
        reverse("login"), {"username": email, "password": "continuum-demo"}, follow=True
    )
    assert reply.redirect_chain[-1][0] == lands


def test_staff_with_a_participant_record_gets_no_sign_in_by_invitation_link(client, wave):
    staff = User.objects.create_user(email="helper@example.org", password="x-long-pass-1")
    staff.is_staff = True
    staff.save()
    dyad = Dyad.objects.filter(cohort=wave.cohort).first()
    Participant.objects.filter(pk=dyad.mentor_id).update(user=staff)
    invitation, _ = Invitation.objects.get_or_create(wave=wave, dyad=dyad, participant=dyad.mentor)
    reply = client.post(reverse("assessments:magic_link", args=[invitation_token(invitation)]))
    assert reply.status_code == 403 and "_auth_user_id" not in client.session
