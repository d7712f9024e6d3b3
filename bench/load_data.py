"""Data of the survey load test: signed-in participants, and putting back what they wrote.

Part of ``bench/load_bench.py``; expects ``seed_demo`` data in an already configured Django.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Participant:
    """One simulated person: where their survey is and what they may answer."""

    session_key: str
    csrf_secret: str
    code: str
    wave: int
    # page number -> [(item code, allowed values)]
    pages: dict[int, list[tuple[str, list[str]]]]


def _open_wave():
    from assessments.models import Wave

    return (
        Wave.objects.open_at()
        .filter(cohort__program__slug="demo", cohort__slug="2026")
        .select_related("instrument")
        .get()
    )


def _drafts(wave, count: int) -> list:
    """Draft responses of ``count`` distinct participants who have a sign-in account."""
    from assessments.models import Response

    drafts = (
        Response.objects.filter(wave=wave, status=Response.Status.DRAFT)
        .exclude(respondent__user=None)
        .select_related("dyad", "respondent__user")
        .order_by("dyad__research_code", "role")
    )
    chosen, seen = [], set()
    for response in drafts:
        if response.respondent_id not in seen:
            seen.add(response.respondent_id)
            chosen.append(response)
        if len(chosen) == count:
            return chosen
    raise LookupError(f"the open wave has only {len(chosen)} draft responses, {count} needed")


def _pages(wave) -> dict[int, list[tuple[str, list[str]]]]:
    """Page number -> items and their valid answers, in the order the survey shows them."""
    from assessments.survey import selectors

    pages = {}
    for number, battery in enumerate(selectors.survey_pages(wave), start=1):
        values = [str(v) for v in range(battery.scale_min, battery.scale_max + 1)]
        pages[number] = [(item.code, values) for item in selectors.page_items(battery)]
    return pages


def _session_for(user) -> str:
    """A stored session signed in as ``user``, as ``django.contrib.auth.login`` makes one.

    Signing in through the form would spend ~100 ms of Argon2 per person outside what is
    measured, and these demo participants have no password.
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def participants(count: int) -> tuple[list[Participant], list]:
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils.crypto import get_random_string

    wave = _open_wave()
    pages = _pages(wave)
    drafts = _drafts(wave, count)
    people = [
        Participant(
            session_key=_session_for(response.respondent.user),
            csrf_secret=get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS),
            code=response.dyad.research_code,
            wave=wave.number,
            pages=pages,
        )
        for response in drafts
    ]
    return people, drafts


@contextmanager
def answers_restored(responses: list) -> Iterator[None]:
    """Put the responses' answers and ``updated_at`` back as they were, whatever happens."""
    from django.db import transaction

    from assessments.models import Answer, Response

    ids = [r.pk for r in responses]
    answers = list(Answer.objects.filter(response_id__in=ids))
    answered = {a.pk: a.answered_at for a in answers}
    updated = dict(Response.objects.filter(pk__in=ids).values_list("pk", "updated_at"))
    try:
        yield
    finally:
        with transaction.atomic():
            Answer.objects.filter(response_id__in=ids).delete()
            Answer.objects.bulk_create(answers)  # stamps answered_at (auto_now) ...
            for answer in answers:
                answer.answered_at = answered[answer.pk]
            Answer.objects.bulk_update(answers, ["answered_at"], batch_size=500)  # ... undone
            for pk, moment in updated.items():
                Response.objects.filter(pk=pk).update(updated_at=moment)


@contextmanager
def sessions_removed(people: list[Participant]) -> Iterator[None]:
    from django.contrib.sessions.models import Session

    try:
        yield
    finally:
        Session.objects.filter(session_key__in=[p.session_key for p in people]).delete()
