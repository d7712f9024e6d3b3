"""Sign-in rate limiting (django-axes): five wrong passwords for one account from one
address lock that pair out with a clear page; the lock lifts after the cool-off."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

pytestmark = pytest.mark.django_db
PASSWORD = "right-horse-battery"


@pytest.fixture
def person(cast):
    cast.mentor.user.set_password(PASSWORD)
    cast.mentor.user.save()
    return cast.mentor.user


def sign_in(client, email: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address
    )


def test_five_failures_lock_the_account_from_that_address_with_a_clear_page(client, person):
    for _ in range(4):
        assert sign_in(client, person.email, "wrong").status_code == 200
    locked = sign_in(client, person.email, "wrong")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.text and "15 minutes" in locked.text
    assert "wrong" not in locked.text.replace("was wrong", "")
    # even the right password is refused while locked, and nothing reveals it was right
    assert sign_in(client, person.email, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_only_for_that_account_and_address(client, person, cast):
    for _ in range(5):
        sign_in(client, person.email, "wrong")
    assert sign_in(client, person.email, PASSWORD, address="10.0.0.2").status_code == 302
    client.logout()
    other = cast.protege.user
    other.set_password(PASSWORD)
    other.save()
    assert sign_in(client, other.email, PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, person):
    for _ in range(5):
        sign_in(client, person.email, "wrong")
    AccessAttempt.objects.update(attempt_time=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert sign_in(client, person.email, PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, person):
    for _ in range(4):
        sign_in(client, person.email, "wrong")
    assert sign_in(client, person.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, person.email, "wrong").status_code == 200


def test_changing_the_case_of_the_email_does_not_buy_more_guesses(client, person):
    for attempt in range(5):
        sign_in(client, person.email.upper() if attempt % 2 else person.email, "wrong")
    assert sign_in(client, person.email.title(), PASSWORD).status_code == 429
