"""Reads of the participant side: their dyads, survey progress and results."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from relationships.models import Dyad, Participant

from .models import Battery, DyadWaveResult, Item, Response, Wave


@dataclass
class WaveStatus:
    wave: Wave
    mine: Response | None
    partner_submitted: bool
    total_items: int
    result: DyadWaveResult | None

    @property
    def percent(self) -> int:
        answered = getattr(self.mine, "answered", 0) if self.mine else 0
        return round(100 * answered / self.total_items) if self.total_items else 0

    @property
    def results_ready(self) -> bool:
        return bool(self.result and self.result.mentor_submitted and self.result.protege_submitted)


@dataclass
class DyadCard:
    dyad: Dyad
    role: str
    partner: Participant
    waves: list[WaveStatus]


def dyad_for_participant(*, user, code: str) -> tuple[Dyad, Participant]:
    """The user's dyad with this research code; ``Http404`` for anyone else."""
    participant = getattr(user, "participant", None)
    if participant is None:
        raise Http404
    dyad = get_object_or_404(
        Dyad.objects.for_participant(participant).select_related(
            "cohort__program", "mentor", "protege"
        ),
        research_code=code,
    )
    return dyad, participant


def dyad_for_results(*, user, code: str, role: str | None) -> tuple[Dyad, str]:
    """The dyad and the side whose results page is shown.

    Partners see their own side; staff may view either side (``role``, default mentor)
    of any dyad, read-only; everyone else gets ``Http404``.
    """
    participant = getattr(user, "participant", None)
    if participant is not None:
        mine = Dyad.objects.for_participant(participant).filter(research_code=code)
        dyad = mine.select_related("cohort__program", "mentor", "protege").first()
        if dyad is not None:
            return dyad, dyad.role_of(participant)
    if not user.is_staff:
        raise Http404
    dyad = get_object_or_404(
        Dyad.objects.select_related("cohort__program", "mentor", "protege"), research_code=code
    )
    return dyad, role if role in ("mentor", "protege") else "mentor"


def response_of(*, dyad: Dyad, wave: Wave, role: str) -> Response | None:
    """The stored response of one side, if that partner has opened the survey."""
    return Response.objects.filter(dyad=dyad, wave=wave, role=role).first()


def wave_of(dyad: Dyad, number: int) -> Wave:
    return get_object_or_404(
        Wave.objects.select_related("instrument"),
        cohort_id=dyad.cohort_id,
        number=number,
        opens_at__lte=timezone.now(),
    )


def participant_home(*, participant: Participant) -> list[DyadCard]:
    """Every dyad of the participant with the status of each opened wave (5 queries)."""
    dyads = list(
        Dyad.objects.for_participant(participant)
        .select_related("mentor", "protege", "cohort__program")
        .order_by("-is_active", "cohort__started_on")
    )
    cohort_ids = {d.cohort_id for d in dyads}
    waves = list(
        Wave.objects.filter(cohort_id__in=cohort_ids, opens_at__lte=timezone.now())
        .order_by("-number")
        .annotate(items=Count("instrument__batteries__subscales__items"))
    )
    responses = Response.objects.filter(dyad__in=dyads).annotate(answered=Count("answers"))
    by_key = {(r.dyad_id, r.wave_id, r.role): r for r in responses}
    results = {(r.dyad_id, r.wave_id): r for r in DyadWaveResult.objects.filter(dyad__in=dyads)}
    cards = []
    for dyad in dyads:
        role = dyad.role_of(participant)
        other = "protege" if role == "mentor" else "mentor"
        statuses = [
            WaveStatus(
                wave=wave,
                mine=by_key.get((dyad.pk, wave.pk, role)),
                partner_submitted=getattr(
                    by_key.get((dyad.pk, wave.pk, other)), "is_submitted", False
                ),
                total_items=wave.items,
                result=results.get((dyad.pk, wave.pk)),
            )
            for wave in waves
            if wave.cohort_id == dyad.cohort_id
        ]
        cards.append(DyadCard(dyad, role, dyad.partner_of(participant), statuses))
    return cards


def survey_pages(wave: Wave) -> list[Battery]:
    return list(wave.instrument.batteries.order_by("order"))


def page_items(battery: Battery) -> list[Item]:
    return list(Item.objects.filter(subscale__battery=battery).order_by("subscale__order", "order"))


def stored_answers(response: Response) -> dict[str, str]:
    """Item code -> posted form value ("na" for not applicable) of a response."""
    return {
        code: "na" if value is None else str(value)
        for code, value in response.answers.values_list("item__code", "value")
    }


def first_unanswered_page(response: Response, pages: list[Battery]) -> int:
    """1-based page of the first unanswered item, or the last page when all are answered."""
    answered = set(response.answers.values_list("item_id", flat=True))
    items = (
        Item.objects.filter(subscale__battery__in=pages)
        .values_list("pk", "subscale__battery_id")
        .order_by("subscale__battery__order", "subscale__order", "order")
    )
    order = [b.pk for b in pages]
    for pk, battery_id in items:
        if pk not in answered:
            return order.index(battery_id) + 1
    return len(pages)


def result_of(*, dyad: Dyad, wave: Wave) -> DyadWaveResult | None:
    return DyadWaveResult.objects.filter(dyad=dyad, wave=wave).first()


def previous_result(*, dyad: Dyad, wave: Wave) -> DyadWaveResult | None:
    return (
        DyadWaveResult.objects.filter(dyad=dyad, wave__number__lt=wave.number)
        .exclude(state="unplaced")
        .order_by("-wave__number")
        .first()
    )


def rel_subscale_titles(wave: Wave) -> dict[str, str]:
    from .models import Subscale

    return dict(
        Subscale.objects.filter(battery__instrument_id=wave.instrument_id, battery__code="REL")
        .order_by("order")
        .values_list("code", "title")
    )


def item_count(wave: Wave) -> int:
    return Item.objects.filter(subscale__battery__instrument_id=wave.instrument_id).count()
