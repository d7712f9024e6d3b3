"""A coordinator's alert emails and weekly digest are written in that coordinator's
language: the one they chose when the product knows it, else the program's default."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone, translation
from django.utils.translation import gettext

from assessments.measurement.rules import ALERT_TEXT
from delivery import notices, worker
from tests import factories
from tests.coordinate.builders import result

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    return mail.outbox


def translated(language: str, text: str) -> str:
    with translation.override(language):
        found = gettext(text)
    assert found != text, f"{text!r} has no {language} translation"
    return found


def speaking(program, default: str):
    program.default_language = default
    program.save(update_fields=["default_language"])
    return program


def alert_sent(cohort_wave) -> dict[str, mail.EmailMessage]:
    dyad = cohort_wave.dyads[0]
    result(dyad, cohort_wave.wave, "dysfunctional").save()
    notices.alert_notices_enqueue(now=timezone.now())
    worker.deliveries_send()
    return {message.to[0]: message for message in mail.outbox}


def test_a_coordinator_of_a_french_program_gets_the_alert_in_french(cohort_wave):
    speaking(cohort_wave.program, "fr")
    message = alert_sent(cohort_wave)[cohort_wave.coordinator.email]
    code = cohort_wave.dyads[0].research_code
    subject = translated("fr", "Alert in %(program)s: dyad %(code)s")
    assert message.subject == subject % {"program": "Bridges", "code": code}
    assert translated("fr", ALERT_TEXT["dysfunctional"]) in message.body
    assert "Vague 1" in message.body and "Wave 1" not in message.body
    assert translated("fr", "See the dyad and record a follow-up:") in message.body


def test_a_coordinator_s_own_language_goes_before_the_program_s(cohort_wave):
    speaking(cohort_wave.program, "fr")
    spanish = factories.CoordinatorFactory(program=cohort_wave.program).user
    factories.ParticipantFactory(user=spanish, language="es")
    sent = alert_sent(cohort_wave)
    assert translated("es", ALERT_TEXT["dysfunctional"]) in sent[spanish.email].body
    assert "Oleada 1" in sent[spanish.email].body
    assert "Vague 1" in sent[cohort_wave.coordinator.email].body


def test_an_english_program_s_coordinator_still_reads_english(cohort_wave):
    message = alert_sent(cohort_wave)[cohort_wave.coordinator.email]
    assert message.subject.startswith("Alert in Bridges: dyad ")
    assert ALERT_TEXT["dysfunctional"] in message.body and "Wave 1" in message.body


def test_the_weekly_digest_is_in_the_coordinator_s_language(cohort_wave):
    speaking(cohort_wave.program, "fr")
    wave = cohort_wave.wave
    result(cohort_wave.dyads[0], wave, "dysfunctional").save()
    wave.opens_at = timezone.now() - dt.timedelta(days=30)
    wave.save()
    monday = timezone.now() - dt.timedelta(days=timezone.now().weekday())
    noon = monday.replace(hour=12, minute=0, second=0, microsecond=0)
    assert notices.digests_enqueue(now=noon) == 1
    worker.deliveries_send()
    [message] = mail.outbox
    subject = translated("fr", "This week in %(program)s") % {"program": "Bridges"}
    assert message.subject == subject
    body = message.body
    assert translated("fr", "This week in %(program)s:") % {"program": "Bridges"} in body
    assert "Vague 1" in body
    assert f"{translated('fr', 'Dysfunctional placement')} (1)" in body
    assert "dysfunctional" not in body.lower()


@pytest.mark.parametrize("language, written", [("en", "8%"), ("es", "8 %"), ("fr", "8 %")])
def test_the_digest_writes_a_rate_as_the_language_does(language, written):
    from django.utils import translation

    from delivery.digest import percent

    with translation.override(language):
        assert percent(0.08) == written
