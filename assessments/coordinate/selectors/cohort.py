"""The cohort dashboard (DESIGN §1, §5): headline numbers, charts and the dyad table.

Each read is one query whatever the number of dyads or waves; the frames then feed
``change.alerts``, ``psychometrics.partner_agreement`` and the chart builders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.core.paginator import Page, Paginator
from django.db.models import Case, F, FilteredRelation, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from assessments.measurement import psychometrics, rules
from assessments.models import Wave
from relationships.models import Cohort, Dyad

from .. import charts, presenters
from .alerts import PAGE_SIZE, cohort_alerts_frame
from .frames import HISTORY, dyads_frame, results_frame, score_pairs
from .waves import chosen_wave, cohort_waves, opened, waves_table

SORTS = {
    "code": ("research_code",),
    "mentor": ("mentor_name", "research_code"),
    "protege": ("protege_name", "research_code"),
    "state": ("state_rank", "research_code"),
    "position": ("position", "research_code"),
    "change": ("change", "research_code"),
}
RESPONSE_FILTERS = {
    "both": Q(mentor_done=True, protege_done=True),
    "mentor_missing": Q(mentor_done=False),
    "protege_missing": Q(protege_done=False),
    "none": Q(mentor_done=False, protege_done=False),
}
STATUS_FILTERS = {"active": Q(is_active=True), "ended": Q(is_active=False), "all": Q()}
# Names as this dyad's program gave them, never ``Participant.name`` (another program's).
SEARCHED = ("research_code", "mentor_name", "protege_name", "mentor__research_code")
SEARCHED += ("protege__research_code", "mentor__user__email", "protege__user__email")


@dataclass(frozen=True)
class Headline:
    expected: int
    submitted: int
    rate: float | None
    states: list[tuple[str, str, int]]
    open_alerts: int


@dataclass
class CohortDashboard:
    waves: list[Wave]
    wave: Wave | None
    headline: Headline
    charts: list[presenters.Chart]
    page: Page


def cohort_dashboard(
    *,
    cohort: Cohort,
    filters: Mapping[str, Any],
    page: int | str | None = 1,
    waves: list[Wave] | None = None,
) -> CohortDashboard:
    """Headline numbers and dyad table of the chosen wave, and the cohort's charts.

    ``filters`` as for ``dyad_rows`` plus ``wave`` (a wave number; default the current
    wave); ``waves`` are the cohort's, when the caller has read them already. The
    page's rows are ``dyad_rows`` dicts run through ``decorate_rows``.
    """
    now = timezone.now()
    waves = cohort_waves(cohorts=[cohort]) if waves is None else waves
    started = opened(waves, now)
    chosen = chosen_wave(waves, filters.get("wave"), now)
    dyads = dyads_frame(cohorts=[cohort])
    history = results_frame(dyads=dyads, waves=started, fields=HISTORY)
    current = results_frame(dyads=dyads, waves=[w for w in started if w == chosen])
    alerts = cohort_alerts_frame(cohort, started, current, now)
    table = Paginator(dyad_rows(cohort=cohort, wave=chosen, filters=filters), PAGE_SIZE)
    shown = table.get_page(page)
    shown.object_list = decorate_rows(shown.object_list, alerts, chosen)
    return CohortDashboard(
        waves=waves,
        wave=chosen,
        headline=headline(current, alerts, chosen),
        charts=cohort_charts(history, current, started, chosen),
        page=shown,
    )


def headline(frame: pd.DataFrame, alerts: pd.DataFrame, wave: Wave | None) -> Headline:
    """Responses, states and open alerts of ``wave`` in a results frame."""
    number = wave.number if wave else None
    rows = frame[frame["wave"] == number]
    submitted = int(rows["mentor_submitted"].sum() + rows["protege_submitted"].sum())
    counts = rows["state"].value_counts()
    return Headline(
        expected=len(rows),
        submitted=submitted,
        rate=100 * submitted / (2 * len(rows)) if len(rows) else None,
        states=[(s, str(presenters.STATE_LABELS[s]), int(counts.get(s, 0))) for s in charts.STATES],
        open_alerts=int((alerts["open"] & (alerts["wave"] == number)).sum()),
    )


def cohort_charts(
    history: pd.DataFrame, current: pd.DataFrame, waves: list[Wave], chosen: Wave | None
) -> list[presenters.Chart]:
    """States, response rates and movement over ``history``; agreement at ``chosen``."""
    words = presenters.chart_words()
    table = waves_table(waves)
    agreement = psychometrics.partner_agreement(score_pairs(current))
    return [
        presenters.state_chart(charts.state_counts(history, table), words),
        presenters.rate_chart(charts.response_rates(history, table), words),
        presenters.transition_chart(charts.transition_counts(history), table, words),
        presenters.agreement_chart(current, chosen, agreement, words),
    ]


# --- the dyad table ----------------------------------------------------------------------


def dyad_rows(
    *, cohort: Cohort, wave: Wave | None, filters: Mapping[str, Any]
) -> QuerySet[Dyad, dict[str, Any]]:
    """Dyads of the cohort with the chosen wave's stored result, filtered and sorted.

    ``filters`` keys (all optional): ``state``, ``flag``, ``transition``, ``response``
    (a key of ``RESPONSE_FILTERS``), ``status`` (``active`` by default, ``ended``,
    ``all``), ``q`` (name, email or research code) and ``sort`` (a key of ``SORTS``,
    ``-`` first for descending). Rows are dicts; the database pages them.
    """
    flags = {f"flag_{name}": Coalesce(F(f"result__{name}"), Value(False)) for name in rules.FLAGS}
    rows = (
        Dyad.objects.filter(cohort=cohort)
        .annotate(result=FilteredRelation("results", condition=Q(results__wave_id=_id(wave))))
        .annotate(
            state=Coalesce(F("result__state"), Value("unplaced")),
            state_rank=_state_rank(),
            position=F("result__position"),
            change=F("result__change"),
            transition=F("result__transition"),
            reliable=Coalesce(F("result__transition_reliable"), Value(False)),
            mentor_done=Coalesce(F("result__mentor_submitted"), Value(False)),
            protege_done=Coalesce(F("result__protege_submitted"), Value(False)),
            **flags,
        )
    )
    shown = ["pk", "research_code", "is_active", "ended_on", "mentor_name", "protege_name"]
    shown += ["state", "position", "change", "transition", "reliable", "mentor_done"]
    shown += ["protege_done", *flags]
    ordered = _filtered(rows, filters).order_by(*_ordering(filters.get("sort") or "code"))
    return ordered.values(*shown)


def _id(wave: Wave | None) -> int | None:
    return wave.pk if wave else None


def _state_rank() -> Case:
    ranks = [When(result__state=s, then=Value(rank)) for s, rank in rules.STATE_ORDER.items()]
    return Case(*ranks, default=Value(len(ranks)), output_field=IntegerField())


def _filtered(rows: QuerySet, filters: Mapping[str, Any]) -> QuerySet:
    if filters.get("state"):
        rows = rows.filter(state=filters["state"])
    if filters.get("flag"):
        rows = rows.filter(**{f"flag_{filters['flag']}": True})
    if filters.get("transition"):
        rows = rows.filter(transition=filters["transition"])
    if filters.get("response"):
        rows = rows.filter(RESPONSE_FILTERS[filters["response"]])
    rows = rows.filter(STATUS_FILTERS[filters.get("status") or "active"])
    text = (filters.get("q") or "").strip()
    if text:
        matches = Q()
        for name in SEARCHED:
            matches |= Q(**{f"{name}__icontains": text})
        rows = rows.filter(matches)
    return rows


def _ordering(sort: str) -> list:
    keys = SORTS.get(sort.lstrip("-"), SORTS["code"])
    first = F(keys[0])
    first = first.desc(nulls_last=True) if sort.startswith("-") else first.asc(nulls_last=True)
    return [first, *keys[1:]]


def decorate_rows(
    rows: Iterable[dict[str, Any]], alerts: pd.DataFrame, wave: Wave | None
) -> list[dict[str, Any]]:
    """Table rows plus ``flags`` and ``alerts`` (labels) and ``state_label``."""
    current = alerts[alerts["open"] & (alerts["wave"] == (wave.number if wave else None))]
    reasons = current.groupby("dyad")["reason"].agg(list).to_dict()
    return presenters.dyad_table_rows(list(rows), reasons)
