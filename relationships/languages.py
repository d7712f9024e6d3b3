"""Each person's language: what a participant chose, what their programs offer, and which
language an email to them is written in.

A participant's choice (``Participant.language``) is saved when they switch language while
signed in and applied again whenever they sign in, by password or by link, on any device:
the sign-in marks the request (``SIGNED_IN_LANGUAGE``) and
``mentoring_site.languages.ParticipantLanguageMiddleware`` sets the language cookie on
the response. The languages their programs offer are kept in the session at sign-in
(``OFFER_KEY``), so participant pages show only those without a query per page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import translation

from .models import Participant, Program, language_codes

# The request attribute a sign-in sets to the participant's own language.
SIGNED_IN_LANGUAGE = "continuum_signed_in_language"
# The session key of the participant's offer (``Offer`` as a dict).
OFFER_KEY = "continuum_languages"


@dataclass(frozen=True)
class Offer:
    """The languages a participant may choose (those their programs offer, in the order
    of ``settings.LANGUAGES``) and the one they see until they choose."""

    languages: list[str]
    default: str


def participant_offer(*, participant: Participant) -> Offer | None:
    """What the programs of ``participant``'s active dyads offer, newest dyad's program
    first for the default; ``None`` when they are in no active dyad."""
    programs = list(
        Program.objects.filter(
            Q(cohorts__dyads__mentor=participant) | Q(cohorts__dyads__protege=participant),
            cohorts__dyads__is_active=True,
        )
        .order_by("-cohorts__dyads__started_on", "pk")
        .values_list("languages", "default_language")
    )
    if not programs:
        return None
    offered = {code for languages, _default in programs for code in languages}
    return Offer([code for code in language_codes() if code in offered], programs[0][1])


def program_offer(program: Program) -> Offer:
    """What ``program`` offers, in the order of ``settings.LANGUAGES``."""
    codes = [code for code in language_codes() if code in program.languages]
    return Offer(codes or [program.default_language], program.default_language)


def email_language(*, participant: Participant, program: Program) -> str:
    """The language of an email to ``participant`` about ``program``: their own choice
    when the program offers it, else the program's default language."""
    return program.language_for(participant.language)


@transaction.atomic
def participant_language_set(*, participant: Participant, language: str) -> Participant:
    """Remember ``language`` (one of ``settings.LANGUAGES``) as the participant's own;
    an unknown code changes nothing."""
    if language in language_codes() and participant.language != language:
        participant.language = language
        participant.save(update_fields=["language"])
    return participant


@receiver(user_logged_in, dispatch_uid="relationships.participant_language")
def _participant_language_on_sign_in(sender, request, user, **kwargs) -> None:
    """Apply a signing-in participant's own language and keep their programs' offer."""
    participant = Participant.objects.filter(user=user).first()
    if request is None or participant is None:
        return
    offer = participant_offer(participant=participant)
    if hasattr(request, "session"):
        request.session[OFFER_KEY] = asdict(offer) if offer is not None else None
    if participant.language in language_codes():
        translation.activate(participant.language)
        request.LANGUAGE_CODE = participant.language
        setattr(request, SIGNED_IN_LANGUAGE, participant.language)
