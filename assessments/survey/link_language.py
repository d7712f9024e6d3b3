"""The language of the pages a link opens before anyone signs in.

An invitation link names its program, and an emailed sign-in link its person (and so
their programs), so those pages offer the languages the program offers rather than every
language, and open in one of them: the language chosen on this device with the
switcher (the language cookie) when the program offers it, else the person's own
language when the program offers it, else the program's default language, which is
also the language the invitation was written in for someone who never chose.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from relationships.languages import Offer, participant_offer
from relationships.models import Participant


def _chosen_here(request: HttpRequest) -> str:
    """The language picked on this device with the switcher, if any."""
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    try:
        return translation.get_supported_language_variant(cookie) if cookie else ""
    except LookupError:
        return ""


def link_page_language(request: HttpRequest, offer: Offer | None, own: str = "") -> dict:
    """Activate the page's language within ``offer`` (``own``: the person's saved
    language) and return the switcher's context listing only the offer; with no offer,
    the request's language and every language stand."""
    if offer is None:
        return {}
    chosen = _chosen_here(request)
    language = next(
        (code for code in (chosen, own) if code and code in offer.languages), offer.default
    )
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return {
        "switcher_languages": [
            (code, translation.get_language_info(code)["name_local"]) for code in offer.languages
        ]
    }


def person_page_language(request: HttpRequest, user) -> dict:
    """``link_page_language`` for a page that knows only the person: the languages of
    their programs (none known for someone in no active dyad)."""
    participant = Participant.objects.filter(user=user).first()
    if participant is None:
        return {}
    return link_page_language(
        request, participant_offer(participant=participant), participant.language
    )
