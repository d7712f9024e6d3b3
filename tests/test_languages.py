"""Every page in the language each person chose (English, Spanish, French): the switcher
on every page, the choice remembered for participants, what a program offers, emails in
the participant's language, and ``<html lang>`` right everywhere."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from assessments.models import Invitation, Wave
from assessments.tokens import invitation_url
from audit.models import AuditEvent
from delivery import services as delivery_services
from delivery import worker
from delivery.models import MessageTemplate
from relationships.forms import ProgramAdminForm
from relationships.models import Participant, Program
from tests import factories

pytestmark = pytest.mark.django_db

SWITCHER = 'action="/i18n/setlang/"'
COOKIE = settings.LANGUAGE_COOKIE_NAME


def html_lang(response) -> str:
    found = re.search(r'<html lang="([^"]*)"', response.content.decode())
    return found.group(1) if found else ""


def switcher_options(response) -> list[str]:
    text = response.content.decode()
    form = text[text.index(SWITCHER) : text.index("</form>", text.index(SWITCHER))]
    return re.findall(r'<option value="([a-z-]+)"', form)


def in_language(code: str) -> Client:
    client = Client()
    client.cookies[COOKIE] = code
    return client


# --- <html lang> and the switcher on every page -------------------------------------------


@pytest.mark.parametrize("code", ["en", "es", "fr"])
def test_html_lang_names_the_language_of_the_page(code):
    response = in_language(code).get(reverse("home"))
    assert html_lang(response) == code
    assert response["Content-Language"] == code


def test_a_browser_asking_for_french_gets_french_until_someone_chooses():
    response = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5")
    assert html_lang(response) == "fr"
    assert "Se connecter" in response.content.decode()


@pytest.mark.parametrize("code", ["es", "fr"])
def test_error_pages_are_in_the_chosen_language(code):
    response = in_language(code).get("/no/such/page/")
    assert response.status_code == 404
    assert html_lang(response) == code
    with translation.override(code):
        assert gettext("Page not found") in response.content.decode()


@pytest.mark.urls("tests.error_urls")
def test_the_500_page_has_the_language_of_the_request(db):
    client = Client(raise_request_exception=False)
    client.cookies[COOKIE] = "es"
    response = client.get("/broken/")
    assert response.status_code == 500
    assert html_lang(response) == "es"
    with translation.override("es"):
        assert gettext("Something went wrong on our side") in response.content.decode()


def test_the_switcher_is_a_labelled_form_that_works_without_script(client):
    text = client.get(reverse("login")).content.decode()
    assert 'method="post"' in text and 'name="csrfmiddlewaretoken"' in text
    assert '<label class="visually-hidden" for="language-switcher">' in text
    assert '<select class="form-select form-select-sm" id="language-switcher"' in text
    assert 'name="next" value="/accounts/login/"' in text
    for code, own_name in (("en", "English"), ("es", "Español"), ("fr", "Français")):
        assert f'<option value="{code}" lang="{code}"' in text and own_name in text


# --- switching -----------------------------------------------------------------------------


def test_switching_sets_the_cookie_and_returns_to_the_page(client):
    response = client.post(reverse("set_language"), {"language": "es", "next": "/accounts/login/"})
    assert response.status_code == 302 and response.url == "/accounts/login/"
    assert response.cookies[COOKIE].value == "es"
    assert response.cookies[COOKIE]["max-age"] == settings.LANGUAGE_COOKIE_AGE
    assert html_lang(client.get("/accounts/login/")) == "es"


def test_switching_never_sends_the_visitor_to_another_site(client):
    response = client.post(
        reverse("set_language"), {"language": "fr", "next": "https://attacker.example/"}
    )
    assert response.status_code == 302 and "attacker" not in response.url


def test_switching_is_a_post_with_its_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("set_language"), {"language": "es"}).status_code == 403
    assert client.get(reverse("set_language"), {"language": "es"}).status_code == 405


def test_a_signed_in_participant_s_choice_is_saved_on_their_record(client, cast):
    client.force_login(cast.mentor.user)
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    cast.mentor.refresh_from_db()
    assert cast.mentor.language == "fr"


def test_an_unknown_language_changes_nothing(client, cast):
    client.force_login(cast.mentor.user)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert COOKIE not in response.cookies
    cast.mentor.refresh_from_db()
    assert cast.mentor.language == ""


def test_a_coordinator_switches_without_a_participant_record(client, cast):
    client.force_login(cast.coordinator)
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.cookies[COOKIE].value == "fr"
    assert not Participant.objects.filter(user=cast.coordinator).exists()


# --- remembered on sign-in -----------------------------------------------------------------


def with_password(participant: Participant, language: str) -> Participant:
    participant.language = language
    participant.save(update_fields=["language"])
    participant.user.set_password("a long enough password")
    participant.user.save()
    return participant


def test_a_participant_signing_in_with_a_password_gets_their_own_language(cast):
    person = with_password(cast.mentor, "es")
    client = in_language("en")  # another person's choice on this browser
    response = client.post(
        reverse("login"), {"username": person.user.email, "password": "a long enough password"}
    )
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "es"
    assert html_lang(client.get(reverse("assessments:home"))) == "es"


def test_a_participant_without_a_choice_keeps_the_browser_s_language(cast):
    person = with_password(cast.mentor, "")
    client = in_language("fr")
    response = client.post(
        reverse("login"), {"username": person.user.email, "password": "a long enough password"}
    )
    assert COOKIE not in response.cookies
    assert html_lang(client.get(reverse("assessments:home"))) == "fr"


def test_the_partners_of_one_dyad_each_get_their_own_language(cast):
    wave = factories.WaveFactory(cohort=cast.cohort)
    pages = {}
    for person, code in ((cast.mentor, "fr"), (cast.protege, "es")):
        person.language = code
        person.save(update_fields=["language"])
        invitation = Invitation.objects.create(wave=wave, dyad=cast.dyad, participant=person)
        client = Client()
        response = client.post(urlsplit(invitation_url(invitation)).path)
        assert response.cookies[COOKIE].value == code
        pages[code] = client.get(reverse("home"))
    assert {code: html_lang(page) for code, page in pages.items()} == {"fr": "fr", "es": "es"}


def test_an_emailed_sign_in_link_applies_the_participant_s_language(cast):
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from assessments.survey.accounts import signin_tokens

    person = with_password(cast.protege, "fr")
    uid = urlsafe_base64_encode(force_bytes(person.user.pk))
    link = reverse("signin_link_use", args=[uid, signin_tokens.make_token(person.user)])
    response = Client().post(link)
    assert response.status_code == 302 and response.cookies[COOKIE].value == "fr"


# --- what a program offers -------------------------------------------------------------------


def offering(program: Program, languages: list[str], default: str) -> Program:
    program.languages, program.default_language = languages, default
    program.save(update_fields=["languages", "default_language"])
    return program


def test_participant_pages_offer_only_the_program_s_languages(client, cast):
    offering(cast.program, ["en", "es"], "es")
    client.force_login(cast.mentor.user)
    assert switcher_options(client.get(reverse("assessments:home"))) == ["en", "es"]
    # elsewhere (setting a password) every language stays on offer
    assert switcher_options(client.get(reverse("password_change"))) == ["en", "es", "fr"]


def test_a_language_the_program_does_not_offer_gives_way_to_its_default(client, cast):
    offering(cast.program, ["en", "es"], "es")
    client.force_login(cast.mentor.user)
    client.cookies[COOKIE] = "fr"
    assert html_lang(client.get(reverse("assessments:home"))) == "es"
    assert html_lang(client.get(reverse("password_change"))) == "fr"


def test_a_coordinator_sets_the_program_s_languages(client, cast):
    client.force_login(cast.coordinator)
    url = reverse("coordinate:program_languages", args=[cast.program.slug])
    page = client.get(url)
    assert page.status_code == 200 and page.text.count('name="languages" value=') == 3
    response = client.post(url, {"languages": ["fr", "es"], "default_language": "fr"})
    assert response.status_code == 302
    cast.program.refresh_from_db()
    assert (cast.program.languages, cast.program.default_language) == (["es", "fr"], "fr")
    event = AuditEvent.objects.get(action="program.languages_changed")
    assert event.actor == cast.coordinator and event.program == cast.program.slug


def test_the_default_language_must_be_one_the_program_offers(client, cast):
    client.force_login(cast.coordinator)
    url = reverse("coordinate:program_languages", args=[cast.program.slug])
    response = client.post(url, {"languages": ["es"], "default_language": "fr"})
    assert response.status_code == 200
    assert "must be one the program offers" in response.text
    cast.program.refresh_from_db()
    assert cast.program.languages == ["en", "es", "fr"]


def test_a_coordinator_of_another_program_cannot_set_its_languages(client, cast):
    client.force_login(cast.other_coordinator)
    url = reverse("coordinate:program_languages", args=[cast.program.slug])
    response = client.post(url, {"languages": ["es"], "default_language": "es"})
    assert response.status_code == 404
    cast.program.refresh_from_db()
    assert cast.program.languages == ["en", "es", "fr"]


def test_the_admin_form_offers_the_languages_as_check_boxes(cast):
    data = {
        "name": "Bridges", "slug": "bridges", "placement_overrides": "{}",
        "keep_research_data_on_erasure": "on", "languages": ["es"], "default_language": "en",
    }  # fmt: skip
    form = ProgramAdminForm(data=data, instance=cast.program)
    assert not form.is_valid() and "default_language" in form.errors
    form = ProgramAdminForm(data={**data, "default_language": "es"}, instance=cast.program)
    assert form.is_valid(), form.errors
    assert form.save().languages == ["es"]


def test_the_admin_change_page_of_a_program_shows_its_languages(client, cast):
    client.force_login(cast.admin)
    page = client.get(reverse("admin:relationships_program_change", args=[cast.program.pk]))
    assert page.status_code == 200
    assert page.text.count('type="checkbox" name="languages"') == 3


# --- emails in the participant's language -----------------------------------------------------


def invitations_sent(dyad) -> tuple[Wave, dict[str, mail.EmailMessage]]:
    wave = factories.WaveFactory(
        cohort=dyad.cohort,
        closes_at=timezone.make_aware(dt.datetime(2027, 3, 14, 12, 0)),
    )
    mail.outbox.clear()
    delivery_services.deliveries_enqueue(wave=wave, audience="not_invited")
    worker.deliveries_send()
    return wave, {message.to[0]: message for message in mail.outbox}


def speak(participant: Participant, language: str) -> None:
    participant.language = language
    participant.save(update_fields=["language"])


def translated(language: str, text: str) -> str:
    with translation.override(language):
        found = gettext(text)
    assert found != text, f"{text!r} has no {language} translation"
    return found


def test_each_partner_gets_the_invitation_in_their_own_language(settings, cast):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    speak(cast.mentor, "es")
    speak(cast.protege, "fr")
    _wave, sent = invitations_sent(cast.dyad)
    spanish, french = sent[cast.mentor.email], sent[cast.protege.email]
    program = cast.program.name
    assert spanish.subject == translated("es", "Your survey from {program}").format(program=program)
    assert french.subject == translated("fr", "Your survey from {program}").format(program=program)
    assert translated("es", "Hello {name},").split("{")[0] in spanish.body
    assert "14 de marzo de 2027" in spanish.body
    assert "14 mars 2027" in french.body
    assert translated("fr", "Hello {name},").split("{")[0] in french.alternatives[0][0]


def test_without_a_choice_the_invitation_is_in_the_program_s_default_language(settings, cast):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    offering(cast.program, ["en", "fr"], "fr")
    speak(cast.protege, "es")  # chosen, but this program does not offer it
    _wave, sent = invitations_sent(cast.dyad)
    expected = translated("fr", "Your survey from {program}").format(program=cast.program.name)
    assert sent[cast.mentor.email].subject == expected
    assert sent[cast.protege.email].subject == expected


def test_a_program_s_own_wording_goes_out_as_written_with_localised_values(settings, cast):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    MessageTemplate.objects.create(
        program=cast.program,
        kind="invitation",
        subject="Bridges survey, {wave}",
        body="Dear {name}, please answer by {closes_on}:\n{link}",
    )
    speak(cast.mentor, "es")
    wave, sent = invitations_sent(cast.dyad)
    spanish, english = sent[cast.mentor.email], sent[cast.protege.email]
    wave_es = translated("es", "Wave %(number)d") % {"number": wave.number}
    assert spanish.subject.startswith("Bridges survey, ") and wave_es in spanish.subject
    assert spanish.body.startswith("Dear ") and "14 de marzo de 2027" in spanish.body
    assert english.body.startswith("Dear ") and "14 March 2027" in english.body


def test_an_admin_sees_and_sets_a_participant_s_language(client, cast):
    client.force_login(cast.admin)
    page = client.get(reverse("admin:relationships_participant_change", args=[cast.mentor.pk]))
    assert page.status_code == 200
    assert '<select name="language"' in page.text and '<option value="fr">' in page.text


def test_an_emailed_sign_in_link_is_written_in_the_participant_s_language(settings, cast):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    speak(cast.protege, "fr")
    mail.outbox.clear()
    in_language("en").post(reverse("signin_link"), {"email": cast.protege.email})
    assert [m.subject for m in mail.outbox] == [translated("fr", "Your Continuum sign-in link")]
