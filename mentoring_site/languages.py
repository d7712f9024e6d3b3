"""The interface language of every page: the switcher, a participant's own language and
the languages their programs offer (README, "Languages").

Django's ``LocaleMiddleware`` picks the language of each request from the language
cookie, else the browser's ``Accept-Language``. On top of it:

- ``set_language`` is Django's view of the same name (a POST from the switcher sets the
  cookie and goes back to the page); for a signed-in participant it also saves the
  choice on their record, so it follows them to any device they sign in on.
- ``ParticipantLanguageMiddleware`` sets the cookie to a participant's saved language
  when they sign in (``relationships.languages``), and on participant pages (the
  ``assessments`` namespace) shows a language their programs offer: one they did not
  offer gives way to the program's default language.
- ``switcher`` gives every template the languages its switcher lists: the programs'
  languages on participant pages, every language elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views import i18n
from django.views.decorators.http import require_POST

from relationships.languages import (
    OFFER_KEY,
    SIGNED_IN_LANGUAGE,
    Offer,
    participant_language_set,
)
from relationships.models import Participant, language_codes

PARTICIPANT_NAMESPACE = "assessments"


def page_offer(request: HttpRequest) -> Offer | None:
    """The offer of the signed-in participant's programs when ``request`` is for one of
    their pages; ``None`` elsewhere (every language is offered there)."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != PARTICIPANT_NAMESPACE:
        return None
    if not request.user.is_authenticated:
        return None
    kept = request.session.get(OFFER_KEY)
    return Offer(**kept) if kept else None


class ParticipantLanguageMiddleware:
    """A participant's own language on sign-in; their programs' languages on their pages.
    Goes after ``LocaleMiddleware`` and ``AuthenticationMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        chosen = getattr(request, SIGNED_IN_LANGUAGE, None)
        if chosen:
            language_cookie_set(response, chosen)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs) -> None:
        offer = page_offer(request)
        if offer is not None and translation.get_language() not in offer.languages:
            translation.activate(offer.default)
            request.LANGUAGE_CODE = offer.default


def language_cookie_set(response: HttpResponse, language: str) -> None:
    """Set the language cookie as Django's ``set_language`` view does."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (its checks of the language and of ``next``), and for a
    signed-in participant their choice saved on their record."""
    response = i18n.set_language(request)
    chosen = request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, "")
    if request.user.is_authenticated and settings.LANGUAGE_COOKIE_NAME in response.cookies:
        participant = Participant.objects.filter(user=request.user).first()
        if participant is not None:
            participant_language_set(participant=participant, language=chosen)
    return response


def switcher(request: HttpRequest) -> dict:
    """Context of the language switcher: ``switcher_languages`` as ``(code, name in its
    own language)`` and ``switcher_next``, the page to come back to."""
    offer = page_offer(request)
    codes = offer.languages if offer is not None else language_codes()
    return {
        "switcher_languages": [
            (code, translation.get_language_info(code)["name_local"]) for code in codes
        ],
        "switcher_next": request.get_full_path(),
    }
