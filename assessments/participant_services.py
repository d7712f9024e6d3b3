"""Writes of the participant side: saving answers, submitting, invitations and reminders.

Every service validates everything before it writes, so a rejected request leaves the
stored answers exactly as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from relationships.models import Dyad, Participant

from .instruments import CODE
from .models import Answer, Invitation, Item, Response, Role, Wave
from .services import results_recompute
from .tokens import token_issue

NOT_APPLICABLE = "na"


class WaveClosed(ValidationError):
    """The wave is not open, so answers cannot change."""


def response_open(*, dyad: Dyad, wave: Wave, participant: Participant) -> Response:
    """The participant's response for the dyad and wave, created as a draft when missing."""
    role = dyad.role_of(participant)
    if role is None or wave.cohort_id != dyad.cohort_id:
        raise ValidationError(_("You are not a partner of this dyad."))
    response = Response.objects.filter(wave=wave, dyad=dyad, role=role).first()
    if response is not None:
        # The caller loaded both already; reusing them saves a query on every autosave.
        response.wave, response.dyad = wave, dyad
        return response
    if not wave.is_open():
        raise WaveClosed(_("This survey is closed."))
    response, _created = Response.objects.get_or_create(
        wave=wave, dyad=dyad, role=role, defaults={"respondent": participant}
    )
    return response


def _checked_values(response: Response, raw: Mapping[str, str]) -> dict[int, int | None]:
    """Item id -> value for every posted answer, or ``ValidationError`` naming each problem."""
    # Only names shaped like item codes reach the query (PostgreSQL refuses NUL bytes).
    asked = [code for code in raw if CODE.fullmatch(code)]
    items = {
        item.code: item
        for item in Item.objects.filter(
            subscale__battery__instrument_id=response.wave.instrument_id
        )
        .select_related("subscale__battery")
        .filter(code__in=asked)
    }
    checked: dict[int, int | None] = {}
    problems = []
    for code, value in raw.items():
        item = items.get(code)
        if item is None:
            problems.append(_("%(code)s is not a question of this survey.") % {"code": code})
            continue
        battery = item.subscale.battery
        if value == NOT_APPLICABLE and item.allow_na:
            checked[item.pk] = None
        elif _whole(value) and battery.scale_min <= int(value) <= battery.scale_max:
            checked[item.pk] = int(value)
        else:
            problems.append(
                _("%(code)s: %(value)r is not an allowed answer.")
                % {"code": code, "value": str(value)[:20]}
            )
    if problems:
        raise ValidationError(problems)
    return checked


def _whole(value) -> bool:
    """Plain ASCII digits only: ``"٣"`` passes ``isdigit`` but is no answer a form sends."""
    text = str(value)
    return text.isascii() and text.isdigit()


def _ensure_editable(response: Response) -> None:
    if response.is_submitted:
        raise ValidationError(_("This survey has been submitted and can no longer change."))
    if not response.wave.is_open():
        raise WaveClosed(
            _("This survey closed on %(date)s; answers can no longer change.")
            % {"date": timezone.localtime(response.wave.closes_at).strftime("%d %B %Y")}
        )


@transaction.atomic
def answers_save(*, response: Response, values: Mapping[str, str]) -> int:
    """Store the posted answers (item code -> point or ``"na"``) in one upsert.

    Raises ``ValidationError`` (``WaveClosed`` when the wave is not open) and writes
    nothing when any value is unknown or outside its scale. Returns the number saved.
    """
    _ensure_editable(response)
    checked = _checked_values(response, values)
    now = timezone.now()
    Answer.objects.bulk_create(
        [
            Answer(response=response, item_id=i, value=v, answered_at=now)
            for i, v in checked.items()
        ],
        update_conflicts=True,
        unique_fields=["response", "item"],
        update_fields=["value", "answered_at"],
    )
    Response.objects.filter(pk=response.pk).update(updated_at=now)
    return len(checked)


def missing_items(*, response: Response) -> list[Item]:
    """Items of the survey without an answer (an explicit "not applicable" counts)."""
    answered = Answer.objects.filter(response=response).values("item_id")
    return list(
        Item.objects.filter(subscale__battery__instrument_id=response.wave.instrument_id)
        .exclude(pk__in=answered)
        .select_related("subscale__battery")
        .order_by("subscale__battery__order", "subscale__order", "order")
    )


def response_submit(*, response: Response) -> Response:
    """Submit once. A second submit (double click, another tab) returns the same response.

    Raises ``ValidationError`` listing the unanswered items, or ``WaveClosed``.
    """
    with transaction.atomic():
        locked = (
            Response.objects.select_for_update().select_related("wave", "dyad").get(pk=response.pk)
        )
        if locked.is_submitted:
            return locked
        _ensure_editable(locked)
        missing = missing_items(response=locked)
        if missing:
            raise ValidationError([item.code for item in missing], code="missing")
        now = timezone.now()
        Response.objects.filter(pk=locked.pk, status=Response.Status.DRAFT).update(
            status=Response.Status.SUBMITTED, submitted_at=now, updated_at=now
        )
        results_recompute(
            cohort=locked.dyad.cohort, dyad_ids=[locked.dyad_id], from_wave=locked.wave.number
        )
    locked.refresh_from_db()
    return locked


# --- invitations and reminders -----------------------------------------------------------


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _message(invitation: Invitation, raw: str, *, reminder: bool) -> EmailMultiAlternatives:
    dyad, wave, person = invitation.dyad, invitation.wave, invitation.participant
    context = {
        "name": person.name or person.email,
        "partner": dyad.partner_of(person),
        "role": Role(dyad.role_of(person)).label.lower(),
        "program": dyad.cohort.program.name,
        "wave": wave,
        "closes_at": wave.closes_at,
        "link": _site_url(reverse("assessments:magic_link", args=[raw])),
        "reminder": reminder,
    }
    subject = (_("Reminder: ") if reminder else "") + _("Your %(program)s mentoring survey") % {
        "program": context["program"]
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/invitation.txt", context),
        to=[person.email],
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    return message


def _partners(
    wave: Wave, participants: Iterable[Participant] | None
) -> list[tuple[Dyad, Participant]]:
    dyads = (
        Dyad.objects.active()
        .filter(cohort_id=wave.cohort_id)
        .select_related("mentor__user", "protege__user", "cohort__program")
    )
    wanted = None if participants is None else {p.pk for p in participants}
    pairs = [(d, p) for d in dyads for p in (d.mentor, d.protege)]
    return [
        (d, p)
        for d, p in pairs
        if p.user_id and p.user.email and (wanted is None or p.pk in wanted)
    ]


def _invitations(wave: Wave, pairs) -> dict[tuple[int, int], Invitation]:
    existing = {
        (i.dyad_id, i.participant_id): i
        for i in Invitation.objects.filter(wave=wave).select_related("wave")
    }
    new = [
        Invitation(wave=wave, dyad=d, participant=p)
        for d, p in pairs
        if (d.pk, p.pk) not in existing
    ]
    Invitation.objects.bulk_create(new, ignore_conflicts=True)
    return {
        (i.dyad_id, i.participant_id): i
        for i in Invitation.objects.filter(wave=wave).select_related("wave")
    }


def _send(wave: Wave, pairs, *, reminder: bool) -> int:
    if not wave.is_open():
        raise WaveClosed(_("Invitations go out only while a wave is open."))
    invitations = _invitations(wave, pairs)
    messages, sent = [], []
    for dyad, person in pairs:
        invitation = invitations[(dyad.pk, person.pk)]
        if invitation.revoked_at is not None:
            continue
        invitation.dyad, invitation.participant = dyad, person
        messages.append(_message(invitation, token_issue(invitation=invitation), reminder=reminder))
        sent.append(invitation.pk)
    get_connection().send_messages(messages)
    now = timezone.now()
    if reminder:
        Invitation.objects.filter(pk__in=sent).update(
            reminded_at=now, reminder_count=F("reminder_count") + 1
        )
    else:
        Invitation.objects.filter(pk__in=sent).update(sent_at=now)
    return len(sent)


def invitations_send(*, wave: Wave) -> int:
    """Email every partner of the wave's active dyads a fresh magic link; returns the count."""
    return _send(wave, _partners(wave, None), reminder=False)


def reminders_send(*, wave: Wave, participants: Iterable[Participant] | None = None) -> int:
    """Remind partners who have not submitted the wave (optionally only ``participants``)."""
    done = set(
        Response.objects.submitted().filter(wave=wave).values_list("dyad_id", "respondent_id")
    )
    pairs = [(d, p) for d, p in _partners(wave, participants) if (d.pk, p.pk) not in done]
    return _send(wave, pairs, reminder=True)
