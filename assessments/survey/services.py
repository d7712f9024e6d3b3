"""Writes of the participant side: opening a response, saving answers, submitting.

Every service validates everything before it writes, so a rejected request leaves the
stored answers exactly as they were.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.instruments import CODE
from assessments.models import Answer, Item, Response, Wave, WaveClosed
from assessments.services import results_recompute
from relationships.models import Dyad, Participant

NOT_APPLICABLE = "na"


class ResponseSubmitted(ValidationError):
    """The response was submitted (perhaps a moment ago, in another tab): its answers no
    longer change."""


def response_open(
    *, dyad: Dyad, wave: Wave, participant: Participant, language: str | None = None
) -> Response:
    """The participant's response for the dyad and wave, created as a draft when missing
    (in ``language``, else the instrument's first; ``answers_save`` keeps it current)."""
    role = dyad.role_of(participant)
    if role is None or wave.cohort_id != dyad.cohort_id:
        raise ValidationError(_("You are not a partner of this dyad."))
    # By primary key: the model's ordering would join six tables to pick the only row.
    response = Response.objects.filter(wave=wave, dyad=dyad, role=role).order_by("pk").first()
    if response is not None:
        # The caller loaded both already; reusing them saves a query on every autosave.
        response.wave, response.dyad = wave, dyad
        return response
    if not wave.is_open():
        raise WaveClosed(_("This survey is closed."))
    language = language or wave.instrument.default_language
    response, _created = Response.objects.get_or_create(
        wave=wave, dyad=dyad, role=role, defaults={"respondent": participant, "language": language}
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
        raise ResponseSubmitted(_("Your answers were already submitted; nothing was changed."))
    if not response.wave.is_open():
        raise WaveClosed(
            _("This survey closed on %(date)s; answers can no longer change.")
            % {"date": timezone.localtime(response.wave.closes_at).strftime("%d %B %Y")}
        )


def _lock_status(response: Response) -> None:
    """Lock the response row as ``response_submit`` does and read its current status.

    A save and a submit of one response therefore run one after the other: a save that
    waited for a submit sees it, so submitted answers never change after scoring.
    """
    locked = Response.objects.select_for_update().filter(pk=response.pk)
    response.status = locked.values_list("status", flat=True).get()


@transaction.atomic
def answers_save(
    *, response: Response, values: Mapping[str, str], language: str | None = None
) -> int:
    """Store the posted answers (item code -> point or ``"na"``) in one upsert, and
    ``language`` (the instrument language the page showed) as the response's language:
    a response is in the language of its latest saved answers, so the partners of a
    dyad may each answer in their own.

    Raises ``ResponseSubmitted`` once the response is submitted (even by a submit that
    finished while this save waited for its lock), ``WaveClosed`` when the wave is not
    open, and ``ValidationError`` when any value is unknown or outside its scale, or the
    language is not one of the instrument's; each writes nothing. Returns the number saved.
    """
    _lock_status(response)
    _ensure_editable(response)
    if language is not None and language not in response.wave.instrument.languages:
        raise ValidationError(_("This survey is not available in %(code)s.") % {"code": language})
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
    changed = {"updated_at": now}
    if language is not None:
        changed["language"] = response.language = language
    Response.objects.filter(pk=response.pk).update(**changed)
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


def _submitted_if_complete(response: Response, now) -> bool:
    """Mark the draft submitted at ``now`` when every item of its survey has an answer:
    one plain statement, as every submit makes it; False (nothing written) while an
    item is unanswered (``missing_items`` names them, for the rare submit refused)."""
    sql = f"""
        UPDATE "{Response._meta.db_table}" SET status = %s, submitted_at = %s, updated_at = %s
        WHERE id = %s AND status = %s AND NOT EXISTS (
            SELECT 1 FROM "{Item._meta.db_table}" i
            JOIN assessments_subscale s ON s.id = i.subscale_id
            JOIN assessments_battery b ON b.id = s.battery_id
            WHERE b.instrument_id = %s AND NOT EXISTS (
                SELECT 1 FROM "{Answer._meta.db_table}" a
                WHERE a.response_id = %s AND a.item_id = i.id))"""
    moment = connection.ops.adapt_datetimefield_value(now)
    params = [Response.Status.SUBMITTED, moment, moment, response.pk, Response.Status.DRAFT]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, response.wave.instrument_id, response.pk])
        return cursor.rowcount == 1


def _lock_for_submit(response: Response) -> str:
    """Lock the response and its dyad (``FOR UPDATE``, where the database has row locks)
    and read the response's current status: one plain statement, as every submit makes
    it."""
    sql = (
        f'SELECT r.status FROM "{Response._meta.db_table}" r '
        f'JOIN "{Dyad._meta.db_table}" d ON d.id = r.dyad_id WHERE r.id = %s'
    )
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF r, d"
    with connection.cursor() as cursor:
        cursor.execute(sql, [response.pk])
        found = cursor.fetchone()
    if found is None:
        raise Response.DoesNotExist(f"response {response.pk} no longer exists")
    return found[0]


def response_submit(*, response: Response) -> Response:
    """Submit once. A second submit (double click, another tab) returns the same response.

    Raises ``ValidationError`` listing the unanswered items, or ``WaveClosed``. The
    response's wave and dyad (with its cohort and program) are those the caller loaded,
    as ``response_open`` leaves them; the response is returned with its new status.
    """
    with transaction.atomic():
        # The response and its dyad are locked, not the wave: the partners of one dyad
        # score one after the other (the second sees the first's submission), while
        # other dyads of the wave submit at the same time.
        status = _lock_for_submit(response)
        if status == Response.Status.SUBMITTED:
            response.refresh_from_db(fields=["status", "submitted_at", "updated_at"])
            return response
        response.status = status
        _ensure_editable(response)
        now = timezone.now()
        if not _submitted_if_complete(response, now):
            missing = missing_items(response=response)
            raise ValidationError([item.code for item in missing], code="missing")
        # Only this dyad is scored, and the cohort's aggregates take its difference.
        results_recompute(
            cohort=response.dyad.cohort, dyad_ids=[response.dyad_id], from_wave=response.wave.number
        )
    response.status, response.submitted_at, response.updated_at = (
        Response.Status.SUBMITTED, now, now
    )  # fmt: skip
    return response
