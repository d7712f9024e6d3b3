"""Reads of the participant side: their dyads, survey progress and results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db.models import Count, Max, Min, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import get_language

from assessments.measurement.change import respondent_change
from assessments.measurement.rules import Constants
from assessments.measurement.scoring import pomp
from assessments.models import Battery, DyadWaveResult, Item, Response, Subscale, Wave
from relationships.models import Dyad, Participant

from .strategies import STRATEGIES, Strategy, weakest_strategies

READ_ANY_SURVEY = "assessments.view_answers"


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


@dataclass(frozen=True)
class Support:
    """KRAM (mean of CAR and PSY) of one side on its 1–7 scale and as POMP (0–100)."""

    score: float
    pomp: float
    low: int
    high: int


@dataclass(frozen=True)
class OwnChange:
    """One partner's own REL change since the dyad's previous placed wave (DESIGN §4.4)."""

    since: Wave
    change: float
    reliable: bool

    @property
    def rose(self) -> bool:
        return self.change > 0

    @property
    def points(self) -> float:
        return abs(self.change)


@dataclass
class DyadCard:
    dyad: Dyad
    role: str
    partner: Participant
    waves: list[WaveStatus]


def dyad_for_participant(*, user, code: str) -> tuple[Dyad, Participant]:
    """The user's dyad with this research code and the user's participant in it;
    ``Http404`` for anyone else. One query: the dyad is found through its partners'
    accounts, and the partner who is ``user`` comes with it."""
    if not user.is_authenticated:
        raise Http404
    mine = Q(mentor__user=user) | Q(protege__user=user)
    dyad = get_object_or_404(
        Dyad.objects.filter(mine).select_related("cohort__program", "mentor", "protege"),
        research_code=code,
    )
    participant = dyad.mentor if dyad.mentor.user_id == user.pk else dyad.protege
    return dyad, participant


def reads_any_survey(*, user) -> bool:
    """Whether ``user`` may read any dyad's survey and results, read-only (DESIGN §7).

    Only the named permission ``READ_ANY_SURVEY`` opens them (superusers hold it
    implicitly); staff status alone does not.
    """
    return user.has_perm(READ_ANY_SURVEY)


def dyad_for_results(*, user, code: str, role: str | None) -> tuple[Dyad, str]:
    """The dyad and the side whose results page is shown.

    Partners see their own side; holders of ``READ_ANY_SURVEY`` may view either side
    (``role``, default mentor) of any dyad, read-only; everyone else gets ``Http404``.
    """
    participant = getattr(user, "participant", None)
    if participant is not None:
        mine = Dyad.objects.for_participant(participant).filter(research_code=code)
        dyad = mine.select_related("cohort__program", "mentor", "protege").first()
        if dyad is not None:
            return dyad, dyad.role_of(participant)
    if not reads_any_survey(user=user):
        raise Http404
    dyad = get_object_or_404(
        Dyad.objects.select_related("cohort__program", "mentor", "protege"), research_code=code
    )
    return dyad, role if role in ("mentor", "protege") else "mentor"


def response_of(*, dyad: Dyad, wave: Wave, role: str) -> Response | None:
    """The stored response of one side, if that partner has opened the survey."""
    return Response.objects.filter(dyad=dyad, wave=wave, role=role).first()


def wave_of(dyad: Dyad, number: int) -> Wave:
    """The dyad's opened wave ``number`` with its instrument (less the source definition,
    which no participant page reads), or ``Http404``."""
    return get_object_or_404(
        Wave.objects.select_related("instrument").defer("instrument__definition"),
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


def survey_language(wave: Wave) -> str:
    """The language the wave's instrument is shown in: the request's active language
    when the instrument carries it, else the instrument's first language."""
    return wave.instrument.language_for(get_language())


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
        .select_related("wave")
        .exclude(state="unplaced")
        .order_by("-wave__number")
        .first()
    )


def rel_subscales(wave: Wave) -> list[Subscale]:
    return list(
        Subscale.objects.filter(
            battery__instrument_id=wave.instrument_id, battery__code="REL"
        ).order_by("order")
    )


def offered_strategies(subscales: list[Subscale], language: str) -> dict[str, Strategy]:
    """Subscale code -> growth strategy in ``language``: the instrument's own, else the
    site's default for that subscale (``strategies.STRATEGIES``); none for the rest."""
    offered = {}
    for subscale in subscales:
        own = subscale.strategy_in(language)
        if own is not None:
            offered[subscale.code] = Strategy(subscale.code, *own)
        elif subscale.code in STRATEGIES:
            offered[subscale.code] = STRATEGIES[subscale.code]
    return offered


def item_count(wave: Wave) -> int:
    return Item.objects.filter(subscale__battery__instrument_id=wave.instrument_id).count()


def results_page(*, dyad: Dyad, wave: Wave, role: str) -> dict[str, Any]:
    """The context of a results page for ``role``'s side of the dyad at ``wave``.

    Everything beyond ``ready`` appears only once both partners have submitted; the
    partner's scores only where the program shares them.
    """
    result = result_of(dyad=dyad, wave=wave)
    ready = bool(result and result.mentor_submitted and result.protege_submitted)
    context = {"dyad": dyad, "wave": wave, "result": result, "ready": ready, "role": role}
    if ready:
        context.update(_results_detail(dyad, wave, result, role))
    return context


def _results_detail(dyad: Dyad, wave: Wave, result: DyadWaveResult, role: str) -> dict[str, Any]:
    other = "protege" if role == "mentor" else "mentor"
    program = dyad.cohort.program
    share = program.share_partner_scores
    language = survey_language(wave)
    subscales = rel_subscales(wave)
    titles = {s.code: s.title_in(language) for s in subscales}
    offered = offered_strategies(subscales, language)
    mine, theirs = result.subscales.get(role, {}), result.subscales.get(other, {})
    previous = previous_result(dyad=dyad, wave=wave)
    scale = kram_scale(wave)
    return {
        "profile": [
            {"code": c, "title": t, "mine": mine.get(c), "theirs": theirs.get(c) if share else None}
            for c, t in titles.items()
        ],
        "share": share,
        "strategies": weakest_strategies({c: mine.get(c) for c in titles}, offered=offered),
        "previous": previous,
        "support": support_of(result, role, scale),
        "partner_support": support_of(result, other, scale) if share else None,
        "own_change": own_change(
            result=result, previous=previous, role=role, constants=program.constants
        ),
    }


def kram_scale(wave: Wave) -> tuple[int, int] | None:
    """Lowest and highest point of the CAR and PSY batteries KRAM averages, if present."""
    scale = Battery.objects.filter(
        instrument_id=wave.instrument_id, code__in=("CAR", "PSY")
    ).aggregate(low=Min("scale_min"), high=Max("scale_max"))
    return None if scale["low"] is None else (scale["low"], scale["high"])


def support_of(result: DyadWaveResult, role: str, scale: tuple[int, int] | None) -> Support | None:
    """``role``'s KRAM with its POMP; ``None`` when either is unknown."""
    score = getattr(result, f"kram_{role}")
    if score is None or scale is None:
        return None
    return Support(score=score, pomp=float(pomp(score, *scale)), low=scale[0], high=scale[1])


def own_change(
    *,
    result: DyadWaveResult,
    previous: DyadWaveResult | None,
    role: str,
    constants: Constants,
) -> OwnChange | None:
    """``role``'s own REL now against the previous placed wave; ``None`` without both."""
    now = getattr(result, f"rel_{role}")
    before = getattr(previous, f"rel_{role}", None)
    if now is None or before is None:
        return None
    row = respondent_change(pd.Series([now]), pd.Series([before]), constants).iloc[0]
    return OwnChange(
        since=previous.wave, change=float(row["change"]), reliable=bool(row["reliable"])
    )
