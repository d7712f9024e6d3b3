"""Participants' rights over their data: a copy of it, a request to delete it, erasure.

What a participant may download is their own answers and their own side's scores,
never a partner's. Erasure removes the person (account, name, self-descriptions, sign-in
links, traces of their email) and keeps the research code; the answers stay under the
code only where the program's consent setting says so, otherwise they go too and the
dyad's results are recomputed from what is left.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from relationships.models import Dyad, Participant, User

from .exports import SCORES, neutralise
from .models import Answer, DyadWaveResult, Invitation, Response
from .services import results_recompute

ANSWER_COLUMNS = [
    "program", "cohort", "wave", "dyad", "role", "item", "item_text", "value", "status",
    "submitted_at",
]  # fmt: skip
SCORE_COLUMNS = ["program", "cohort", "wave", "dyad", "role", *SCORES, "position", "state"]


def participant_data(*, participant: Participant) -> dict[str, Any]:
    """Everything about the participant's answers and own scores, in plain values."""
    answers = (
        Answer.objects.filter(response__respondent=participant)
        .order_by("response__wave__cohort_id", "response__wave__number", "response__role",
                  "item__subscale__battery__order", "item__subscale__order", "item__order")
        .values_list(
            "response__wave__cohort__program__slug", "response__wave__cohort__slug",
            "response__wave__number", "response__dyad__research_code", "response__role",
            "item__code", "item__text_mentor", "item__text_protege", "value",
            "response__status", "response__submitted_at",
        )
    )  # fmt: skip
    rows = [
        {
            "program": program, "cohort": cohort, "wave": wave, "dyad": dyad, "role": role,
            "item": item, "item_text": mentor_text if role == "mentor" else protege_text,
            "value": value, "status": status,
            "submitted_at": submitted.isoformat() if submitted else None,
        }
        for (program, cohort, wave, dyad, role, item, mentor_text, protege_text, value, status,
             submitted) in answers
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
    """The participant's side of each stored result: scores, subscales, placement."""
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
        rows.append(
            {
                "program": result.dyad.cohort.program.slug,
                "cohort": result.dyad.cohort.slug,
                "wave": result.wave.number,
                "dyad": result.dyad.research_code,
                "role": role,
                **{x: getattr(result, f"{x.lower()}_{role}") for x in SCORES},
                "subscales": result.subscales.get(role, {}),
                "position": result.position,
                "state": result.state,
            }
        )
    return rows


def participant_csv(data: dict[str, Any]) -> str:
    """Two tables in one CSV file: the answers, then (after a blank line) the scores."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ANSWER_COLUMNS)
    for row in data["answers"]:
        writer.writerow([neutralise(_text(row[c])) for c in ANSWER_COLUMNS])
    writer.writerow([])
    writer.writerow(SCORE_COLUMNS)
    for row in data["scores"]:
        writer.writerow([neutralise(_text(row[c])) for c in SCORE_COLUMNS])
    return buffer.getvalue()


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return value


def deletion_request(*, participant: Participant, request=None) -> bool:
    """Record the participant's request and tell the admins; False if already asked."""
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
    admins = list(
        User.objects.filter(is_superuser=True, is_active=True).values_list("email", flat=True)
    )
    if admins:
        send_mail(
            _("Continuum: a participant asked for deletion"),
            _(
                "Participant %(code)s asked for their data to be deleted. Erase them from "
                'the admin (Participants, action "Erase"); the program\'s consent setting '
                "decides whether their answers stay under the research code."
            )
            % {"code": participant.research_code},
            None,
            admins,
        )
    return True


@dataclass(frozen=True)
class Erasure:
    research_code: str
    answers_removed: int
    results_recomputed: int
    already_erased: bool = False


def participant_erase(*, participant: Participant, actor=None) -> Erasure:
    """Remove the person; keep or remove their answers as each program's consent allows."""
    if participant.erased_at is not None:
        return Erasure(participant.research_code, 0, 0, already_erased=True)
    with transaction.atomic():
        email = participant.email
        removed, touched = _answers_without_consent(participant)
        Invitation.objects.filter(participant=participant, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if participant.user_id:
            user = participant.user
            participant.user = None
            participant.save(update_fields=["user"])
            user.delete()
        _forget_email(email, participant.research_code)
        Participant.objects.filter(pk=participant.pk).update(
            name="", gender="", gender_self_description="", race_ethnicity="",
            erased_at=timezone.now(),
        )  # fmt: skip
        recomputed = sum(
            results_recompute(cohort=cohort, dyad_ids=dyad_ids)
            for cohort, dyad_ids in touched.values()
        )
        audit_record(
            action=AuditEvent.Action.ERASURE,
            actor=actor,
            target=participant.research_code,
            detail={"answers_removed": removed, "results_recomputed": recomputed},
        )
    participant.refresh_from_db()
    return Erasure(participant.research_code, removed, recomputed)


def _answers_without_consent(participant: Participant) -> tuple[int, dict]:
    """Delete the responses in programs that keep no research data after erasure;
    returns the answers removed and, per cohort, the dyads whose results need redoing."""
    responses = Response.objects.filter(
        respondent=participant, dyad__cohort__program__keep_research_data_on_erasure=False
    ).select_related("dyad__cohort")
    touched: dict[int, tuple] = {}
    for response in responses:
        cohort = response.dyad.cohort
        touched.setdefault(cohort.pk, (cohort, set()))[1].add(response.dyad_id)
    removed = Answer.objects.filter(response__in=responses).count()
    responses.delete()
    return removed, {pk: (cohort, sorted(ids)) for pk, (cohort, ids) in touched.items()}


def _forget_email(email: str, code: str) -> None:
    """Sign-in records keep the address that was typed; they go, and the audit trail
    keeps its events with the research code in place of the address."""
    if not email:
        return
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username__iexact=email).delete()
    label = f"erased participant {code}"
    AuditEvent.objects.filter(target__iexact=email).update(target=label)
    AuditEvent.objects.filter(actor_label__iexact=email).update(actor_label=label)
