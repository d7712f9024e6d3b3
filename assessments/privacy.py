"""Participants' rights over their data: a copy of it, a request to delete it, erasure.

What a participant may download is their own answers and their own side's scores,
never a partner's. Erasure removes the person (account, name, the names programs gave
them in their dyads, self-descriptions, sign-in links, traces of their email and names)
and keeps the research code; the answers stay under the code only where the program's
consent setting says so, otherwise they go too and the dyad's results are recomputed
from what is left.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from relationships.models import Dyad, Participant, User

from .cells import neutralise
from .measurement.rules import SCORE_COLUMNS as SCORES
from .models import Answer, DyadWaveResult, Invitation, Response
from .services import results_recompute

logger = logging.getLogger(__name__)

CSV_COLUMNS = [
    "program", "cohort", "wave", "dyad", "role", "record", "code", "text", "value", "status",
    "submitted_at",
]  # fmt: skip
# Where the admin and the audit trail keep names and emails as they were written.
HISTORY_FIELDS: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (LogEntry, ("object_repr", "change_message")),
    (AuditEvent, ("target", "actor_label", "detail")),
)


def participant_data(*, participant: Participant) -> dict[str, Any]:
    """The participant's copy: ``participant`` (their own code, name and email; nobody
    else's identity), ``answers`` (one per answer, drafts included, worded for their side
    in the language they answered in) and ``scores`` (their side of each stored result).
    Four queries whatever the waves."""
    answers = (
        Answer.objects.filter(response__respondent=participant)
        .order_by("response__wave__cohort_id", "response__wave__number", "response__role",
                  "item__subscale__battery__order", "item__subscale__order", "item__order")
        .values_list(
            "response__wave__cohort__program__slug", "response__wave__cohort__slug",
            "response__wave__number", "response__dyad__research_code", "response__role",
            "item__code", "item__text_mentor", "item__text_protege", "value",
            "response__status", "response__submitted_at", "item__translations",
            "response__language",
        )
    )  # fmt: skip
    rows = [
        {
            "program": program, "cohort": cohort, "wave": wave, "dyad": dyad, "role": role,
            "item": item,
            "item_text": (translations.get(language) or {}).get(role)
            or (mentor_text if role == "mentor" else protege_text),
            "value": value, "status": status,
            "submitted_at": submitted.isoformat() if submitted else None,
        }
        for (program, cohort, wave, dyad, role, item, mentor_text, protege_text, value, status,
             submitted, translations, language) in answers
    ]  # fmt: skip
    return {
        "participant": {
            "research_code": participant.research_code,
            "name": participant.name,
            "email": participant.email,
        },
        "answers": rows,
        "scores": _own_scores(participant),
    }


def _own_scores(participant: Participant) -> list[dict[str, Any]]:
    """The participant's side of each result they submitted to: scores, subscales, state.

    ``position`` is the dyad's mean REL on a 0–100 scale, so with one's own REL it gives
    the partner's REL away: it is filled only where the program shares partner scores.
    """
    dyads = Dyad.objects.filter(Q(mentor=participant) | Q(protege=participant))
    results = (
        DyadWaveResult.objects.filter(dyad__in=dyads)
        .select_related("dyad__cohort__program", "wave")
        .order_by("dyad__cohort_id", "wave__number", "dyad__research_code")
    )
    rows = []
    for result in results:
        role = "mentor" if result.dyad.mentor_id == participant.pk else "protege"
        if not getattr(result, f"{role}_submitted"):
            continue
        program = result.dyad.cohort.program
        rows.append(
            {
                "program": program.slug,
                "cohort": result.dyad.cohort.slug,
                "wave": result.wave.number,
                "dyad": result.dyad.research_code,
                "role": role,
                **{x: getattr(result, f"{x.lower()}_{role}") for x in SCORES},
                "subscales": result.subscales.get(role, {}),
                "position": result.position if program.share_partner_scores else None,
                "state": result.state,
            }
        )
    return rows


def participant_csv(data: dict[str, Any]) -> str:
    """The copy as one table (``CSV_COLUMNS``), one row per value held, formula-safe.

    ``record`` says what a row is: ``answer`` (``code`` the item, ``text`` its wording,
    ``value`` the raw answer, empty for "not applicable"), ``score`` (``code`` a battery
    or subscale, ``value`` to 4 decimals) or ``placement`` (``position`` in ``value``,
    ``state`` in ``text``). ``value`` is always a number or empty.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows([neutralise(_text(cell)) for cell in row] for row in _csv_rows(data))
    return buffer.getvalue()


def _csv_rows(data: dict[str, Any]) -> Iterator[list[Any]]:
    for a in data["answers"]:
        yield [a["program"], a["cohort"], a["wave"], a["dyad"], a["role"], "answer", a["item"],
               a["item_text"], a["value"], a["status"], a["submitted_at"]]  # fmt: skip
    for s in data["scores"]:
        where = [s["program"], s["cohort"], s["wave"], s["dyad"], s["role"]]
        for code, value in [*((x, s[x]) for x in SCORES), *s["subscales"].items()]:
            yield [*where, "score", code, None, value, None, None]
        yield [*where, "placement", "position", None, s["position"], None, None]
        yield [*where, "placement", "state", s["state"], None, None, None]


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return value


def deletion_request(*, participant: Participant, request: HttpRequest | None = None) -> bool:
    """Record the participant's request and tell the admins; False if already asked.

    The request stands even when the mail cannot be sent: the admin's participant list
    shows every pending request.
    """
    with transaction.atomic():
        updated = Participant.objects.filter(
            pk=participant.pk, deletion_requested_at__isnull=True, erased_at__isnull=True
        ).update(deletion_requested_at=timezone.now())
        if not updated:
            return False
        audit_record(
            action=AuditEvent.Action.DELETION_REQUEST,
            actor=participant.user,
            target=participant.research_code,
            request=request,
        )
    try:
        _tell_admins(participant.research_code)
    except (smtplib.SMTPException, OSError):
        logger.exception("Deletion request of %s not emailed", participant.research_code)
    return True


def _tell_admins(code: str) -> None:
    admins = list(
        User.objects.filter(is_superuser=True, is_active=True).values_list("email", flat=True)
    )
    if not admins:
        return
    send_mail(
        _("Continuum: a participant asked for deletion"),
        _(
            "Participant %(code)s asked for their data to be deleted. Erase them from "
            'the admin (Participants, action "Erase"); the program\'s consent setting '
            "decides whether their answers stay under the research code."
        )
        % {"code": code},
        None,
        admins,
    )


@dataclass(frozen=True)
class Erasure:
    """What one erasure did, for the admin's message and the audit trail."""

    research_code: str
    answers_removed: int = 0
    results_recomputed: int = 0
    links_revoked: int = 0
    history_rows_rewritten: int = 0
    already_erased: bool = False


def participant_erase(*, participant: Participant, actor: User | None = None) -> Erasure:
    """Remove the person; keep or remove their answers as each program's consent allows.

    One transaction, the participant's row locked, so two admins erasing at once erase
    once. Erasing an erased participant changes nothing (``already_erased``).
    """
    with transaction.atomic():
        person = Participant.objects.select_for_update().get(pk=participant.pk)
        if person.erased_at is not None:
            return Erasure(person.research_code, already_erased=True)
        user = person.user
        email = user.email if user else ""
        names = {person.name, user.get_full_name() if user else "", *_names_in_dyads(person)}
        names -= {""}
        removed, touched = _answers_without_consent(person)
        revoked = Invitation.objects.filter(participant=person, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if user is not None:
            person.user = None
            person.save(update_fields=["user"])
            user.delete()
        rewritten = _forget_identity(email=email, names=names, code=person.research_code)
        Dyad.objects.filter(mentor=person).update(mentor_name="")
        Dyad.objects.filter(protege=person).update(protege_name="")
        Participant.objects.filter(pk=person.pk).update(
            name="", gender="", gender_self_description="", race_ethnicity="",
            erased_at=timezone.now(),
        )  # fmt: skip
        recomputed = sum(
            results_recompute(cohort=cohort, dyad_ids=dyad_ids)
            for cohort, dyad_ids in touched.values()
        )
        counts = {"answers_removed": removed, "results_recomputed": recomputed,
                  "links_revoked": revoked, "history_rows_rewritten": rewritten}  # fmt: skip
        # The updates and bulk writes above reach no signal: this event is their record.
        audit_record(
            action=AuditEvent.Action.ERASURE,
            actor=actor,
            target=person.research_code,
            detail=counts,
        )
    participant.refresh_from_db()
    return Erasure(person.research_code, **counts)


def _names_in_dyads(participant: Participant) -> set[str]:
    """The names programs gave the person in their dyads (one query)."""
    rows = Dyad.objects.filter(Q(mentor=participant) | Q(protege=participant)).values_list(
        "mentor_id", "mentor_name", "protege_name"
    )
    return {mentor if mentor_id == participant.pk else protege
            for mentor_id, mentor, protege in rows}  # fmt: skip


def _answers_without_consent(participant: Participant) -> tuple[int, dict]:
    """Delete the responses in programs that keep no research data after erasure;
    returns the answers removed and, per cohort, the dyads whose results need redoing."""
    responses = Response.objects.filter(
        respondent=participant, dyad__cohort__program__keep_research_data_on_erasure=False
    ).select_related("dyad__cohort__program")
    touched: dict[int, tuple] = {}
    for response in responses:
        cohort = response.dyad.cohort
        touched.setdefault(cohort.pk, (cohort, set()))[1].add(response.dyad_id)
    doomed = Response.objects.filter(pk__in=[r.pk for r in responses])
    removed = Answer.objects.filter(response__in=doomed).count()
    doomed.delete()
    return removed, {pk: (cohort, sorted(ids)) for pk, (cohort, ids) in touched.items()}


def _forget_identity(*, email: str, names: set[str], code: str) -> int:
    """Sign-in records keep the address that was typed: they go. The admin history and
    the audit trail keep their rows, with "erased participant CODE" in place of the
    person's email and name. Returns the number of history rows rewritten."""
    if email:
        for model in (AccessAttempt, AccessLog, AccessFailureLog):
            model.objects.filter(username__iexact=email).delete()
    terms = [t for t in (email, *sorted(names)) if t]
    if not terms:
        return 0
    parts = [rf"(?i:{re.escape(email)})"] if email else []
    # A name is replaced only as a whole word, so "Ann" leaves "Annual review" alone.
    parts += [rf"(?<!\w){re.escape(name)}(?!\w)" for name in sorted(names, key=len, reverse=True)]
    pattern = re.compile("|".join(parts))
    # JSON text may hold the terms with non-ASCII letters escaped (SQLite, change messages).
    variants = {v for t in terms for v in (t, json.dumps(t)[1:-1])}
    label = f"erased participant {code}"
    return sum(
        _rewrite(model, fields, pattern, variants, label) for model, fields in HISTORY_FIELDS
    )


def _rewrite(
    model: type[models.Model],
    fields: tuple[str, ...],
    pattern: re.Pattern,
    variants: set[str],
    label: str,
) -> int:
    """Replace ``pattern`` with ``label`` in the given text or JSON fields of ``model``."""
    casts = {f"_{f}_text": Cast(f, models.TextField()) for f in fields}
    found = Q()
    for alias in casts:
        found |= reduce(or_, (Q(**{f"{alias}__icontains": v}) for v in variants))
    changed = []
    for row in model.objects.annotate(**casts).filter(found):
        before = [getattr(row, name) for name in fields]
        for name, value in zip(fields, before, strict=True):
            setattr(row, name, _scrub_field(value, model._meta.get_field(name), pattern, label))
        if [getattr(row, name) for name in fields] != before:
            changed.append(row)
    model.objects.bulk_update(changed, list(fields))
    return len(changed)


def _scrub_field(value: Any, field: models.Field, pattern: re.Pattern, label: str) -> Any:
    if isinstance(field, models.JSONField):
        return _scrub(value, pattern, label)
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, list | dict):  # the admin's change messages are JSON text
        value = json.dumps(_scrub(parsed, pattern, label))
    else:
        value = pattern.sub(label, value)
    return value[: field.max_length] if field.max_length else value


def _scrub(value: Any, pattern: re.Pattern, label: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(label, value)
    if isinstance(value, list):
        return [_scrub(v, pattern, label) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, pattern, label) for k, v in value.items()}
    return value
