"""An API mail provider's tracking webhook (django-anymail) marks bounced messages
failed: each email names its delivery row in its metadata, the provider echoes it in
a signed event, and the row is failed with the provider's reason, ready to retry."""

import hashlib
import hmac
import json
import time

import pytest
from django.core import mail

from delivery.models import Delivery
from delivery.services import deliveries_enqueue

pytest.importorskip("anymail")
pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.delivery.anymail_urls")]

SIGNING_KEY = "mailgun-webhook-signing-key-for-tests"
WEBHOOK = "/anymail/mailgun/tracking/"


@pytest.fixture
def provider(settings):
    """Mail goes out through anymail (its test backend stands in for the provider)."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


@pytest.fixture
def sent(provider, cohort_wave) -> Delivery:
    """The invitations of the wave, sent; returns one of them."""
    deliveries_enqueue(wave=cohort_wave.wave, audience="not_invited")
    return Delivery.objects.filter(status=Delivery.Status.SENT).order_by("pk").first()


def mailgun_event(delivery_id, recipient: str, *, event="failed", severity="permanent",
                  key: str = SIGNING_KEY) -> dict:  # fmt: skip
    """A tracking event as Mailgun posts it, signed as Mailgun signs it."""
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "severity": severity,
            "reason": "bounce",
            "recipient": recipient,
            "timestamp": time.time(),
            "user-variables": {"delivery": str(delivery_id)},
            "delivery-status": {"description": "", "message": "550 5.1.1 No such mailbox"},
            "message": {"headers": {"message-id": "20261201.1@mg.example.org"}},
        },
    }


def post(client, payload: dict):
    return client.post(WEBHOOK, json.dumps(payload), content_type="application/json")


def test_every_email_names_its_delivery_row_for_the_provider(sent):
    params = {m.to[0]: m.anymail_test_params["metadata"] for m in mail.outbox}
    assert params[sent.to_email] == {"delivery": str(sent.pk)}
    assert len(params) == Delivery.objects.filter(status=Delivery.Status.SENT).count() == 12


def test_a_signed_bounce_marks_the_message_failed_with_the_reason(client, sent):
    reply = post(client, mailgun_event(sent.pk, sent.to_email.upper()))
    assert reply.status_code == 200
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.FAILED
    assert sent.last_error == "Mailgun reported bounced: 550 5.1.1 No such mailbox"
    assert Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 1


def test_a_wrongly_signed_event_changes_nothing(client, sent):
    reply = post(client, mailgun_event(sent.pk, sent.to_email, key="guessed"))
    assert reply.status_code == 400
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.SENT


@pytest.mark.parametrize(
    ("event", "severity"), [("failed", "temporary"), ("delivered", ""), ("opened", "")]
)
def test_deliveries_and_temporary_failures_change_nothing(client, sent, event, severity):
    assert post(client, mailgun_event(sent.pk, sent.to_email, event=event,
                                      severity=severity)).status_code == 200  # fmt: skip
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.SENT


def test_an_event_about_another_address_or_no_row_changes_nothing(client, sent):
    for payload in (
        mailgun_event(sent.pk, "someone.else@example.org"),
        mailgun_event(sent.pk, ""),
        mailgun_event("", sent.to_email),
        mailgun_event("x1", sent.to_email),
    ):
        assert post(client, payload).status_code == 200
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.SENT
