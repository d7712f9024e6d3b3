"""The page an invitation link (or an emailed sign-in link) opens before anyone signs in
offers the languages of the person's program and opens in one of them."""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from assessments.models import Invitation
from assessments.survey.accounts import signin_tokens
from assessments.tokens import invitation_url
from tests import factories
from tests.test_languages import html_lang, offering, switcher_options

pytestmark = pytest.mark.django_db
COOKIE = settings.LANGUAGE_COOKIE_NAME


@pytest.fixture
def link(cast) -> str:
    wave = factories.WaveFactory(cohort=cast.cohort, number=1)
    invitation = Invitation.objects.create(wave=wave, dyad=cast.dyad, participant=cast.mentor)
    return urlsplit(invitation_url(invitation)).path


def test_the_invitation_page_offers_only_the_program_s_languages(cast, link):
    offering(cast.program, ["en", "fr"], "fr")
    response = Client().get(link)
    assert response.status_code == 200
    assert switcher_options(response) == ["en", "fr"]


def test_someone_who_never_chose_sees_the_program_s_default_language(cast, link):
    offering(cast.program, ["en", "fr"], "fr")
    response = Client().get(link, HTTP_ACCEPT_LANGUAGE="en")
    assert html_lang(response) == "fr"
    assert "Vague 1" in response.content.decode()


def test_a_choice_made_on_this_device_stands_when_the_program_offers_it(cast, link):
    offering(cast.program, ["en", "fr"], "fr")
    client = Client()
    client.cookies[COOKIE] = "en"
    assert html_lang(client.get(link)) == "en"
    client.cookies[COOKIE] = "es"  # not offered by this program
    assert html_lang(client.get(link)) == "fr"


def test_the_person_s_own_language_goes_before_the_default(cast, link):
    offering(cast.program, ["es", "fr"], "fr")
    cast.mentor.language = "es"
    cast.mentor.save(update_fields=["language"])
    response = Client().get(link)
    assert html_lang(response) == "es" and "Oleada 1" in response.content.decode()


def test_the_switcher_on_the_invitation_page_moves_within_the_offer(cast, link):
    offering(cast.program, ["en", "es"], "en")
    client = Client()
    response = client.post(reverse("set_language"), {"language": "es", "next": link})
    assert response.status_code == 302 and response["Location"] == link
    assert html_lang(client.get(link)) == "es"


def test_an_emailed_sign_in_link_page_offers_the_person_s_programs_languages(cast):
    offering(cast.program, ["en", "es"], "es")
    person = cast.protege
    uid = urlsafe_base64_encode(force_bytes(person.user.pk))
    page = reverse("signin_link_use", args=[uid, signin_tokens.make_token(person.user)])
    response = Client().get(page)
    assert response.status_code == 200
    assert switcher_options(response) == ["en", "es"] and html_lang(response) == "es"


def test_a_refused_link_still_offers_every_language(db):
    response = Client().get(reverse("assessments:magic_link", args=["1-nonsense"]))
    assert switcher_options(response) == ["en", "es", "fr"]
