"""The cohort dashboard (DESIGN §1, §5): headline numbers, charts and the dyad table.

What the page costs follows what it shows, not the cohort's size: the headline and the
charts read the counts kept by ``results.aggregates`` (``summary``), the dyad table is
filtered, sorted and paged by the database, and the open alerts of its rows come from
the kept open alerts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Case, F, FilteredRelation, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from assessments.measurement import rules
from assessments.models import OpenAlert, Wave
from relationships.models import Cohort, Dyad

from .. import charts, presenters
from . import summary
from .alerts import PAGE_SIZE
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
    page's rows are ``dyad_rows`` dicts run through ``decorate_rows``. A wave that has
    not opened yet shows no numbers.
    """
    now = timezone.now()
    waves = cohort_waves(cohorts=[cohort]) if waves is None else waves
    started = opened(waves, now)
    chosen = chosen_wave(waves, filters.get("wave"), now)
    current = chosen if chosen in started else None
    counts = summary.cohort_counts(cohort=cohort, waves=waves, bins=current)
    days = cohort.program.constants.alert_days_before_close
    closing = summary.closing_waves(started, now, days)
    rows = dyad_rows(cohort=cohort, wave=chosen, filters=filters)
    table = KnownCount(rows, PAGE_SIZE, count=_unfiltered_count(counts, filters))
    shown = table.get_page(page)
    shown.object_list = decorate_rows(shown.object_list, current, closing)
    return CohortDashboard(
        waves=waves,
        wave=chosen,
        headline=headline(counts, current, closing),
        charts=cohort_charts(counts, started, current, chosen),
        page=shown,
    )


def headline(counts: summary.CohortCounts, wave: Wave | None, closing: set[int]) -> Headline:
    """Responses, states and open alerts of ``wave`` (zeros for None) from the counts;
    a partner missing counts among the alerts while the wave is in ``closing``."""
    states = counts.states(wave)
    expected = sum(states.values())
    submitted = counts.n(wave, "submitted:mentor") + counts.n(wave, "submitted:protege")
    return Headline(
        expected=expected,
        submitted=submitted,
        rate=100 * submitted / (2 * expected) if expected else None,
        states=[(s, str(presenters.STATE_LABELS[s]), states[s]) for s in charts.STATES],
        open_alerts=counts.open_alerts(wave, closing=closing) if wave else 0,
    )


CHART_SECONDS = 3600


def cohort_charts(
    counts: summary.CohortCounts, waves: list[Wave], current: Wave | None, chosen: Wave | None
) -> list[presenters.Chart]:
    """States, response rates and movement over ``waves``; agreement at ``current`` (the
    chosen wave once it has opened).

    Building the four figures costs more than the rest of the page, and they change only
    when the counts do: they are kept in the cache under a digest of everything they
    show (counts, waves, language), so each change of the counts builds them once.
    """
    shown = [(w.pk, w.number, str(w)) for w in waves]
    source = (sorted(counts.counts.items()), shown, _id(current), str(chosen))
    digest = hashlib.sha256(repr((source, translation.get_language())).encode()).hexdigest()
    return cache.get_or_set(
        f"cohort-charts:{digest}",
        lambda: _charts(counts, waves, current, chosen),
        CHART_SECONDS,
    )


def _charts(
    counts: summary.CohortCounts, waves: list[Wave], current: Wave | None, chosen: Wave | None
) -> list[presenters.Chart]:
    words = presenters.chart_words()
    table = waves_table(waves)
    states = charts.counted_states(summary.state_frame(counts, waves), table)
    rates = charts.counted_rates(summary.response_sums(counts, waves), table)
    return [
        presenters.state_chart(states, words),
        presenters.rate_chart(rates, words),
        presenters.transition_chart(summary.movement_frame(counts, waves), table, words),
        presenters.agreement_chart(
            summary.agreement_points(counts, current),
            chosen,
            summary.agreement_by_state(counts, current),
            summary.rel_agreement(counts, current),
            words,
        ),
    ]


class KnownCount(Paginator):
    """A paginator told its count when it is already known (None: counted as usual)."""

    def __init__(self, rows: Any, per_page: int, *, count: int | None) -> None:
        super().__init__(rows, per_page)
        self.known = count

    @cached_property
    def count(self) -> int:
        return self.known if self.known is not None else super().count


def _unfiltered_count(counts: summary.CohortCounts, filters: Mapping[str, Any]) -> int | None:
    """How many dyads the table lists when only the status filter is set, from the
    dyad counts the page read anyway; None when other filters are set."""
    if any(filters.get(name) for name in ("state", "flag", "transition", "response", "q")):
        return None
    status = filters.get("status") or "active"
    return {"active": counts.active, "ended": counts.dyads - counts.active}.get(
        status, counts.dyads
    )


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
    rows: Iterable[dict[str, Any]], wave: Wave | None, closing: set[int]
) -> list[dict[str, Any]]:
    """Table rows plus ``flags`` and ``alerts`` (labels) and ``state_label``: the open
    alerts of these rows' dyads at ``wave`` (one query)."""
    rows = list(rows)
    reasons: dict[int, list[str]] = {}
    if wave is not None and rows:
        found = OpenAlert.objects.filter(dyad_id__in=[row["pk"] for row in rows], wave=wave)
        if wave.pk not in closing:
            found = found.filter(timed=False)
        for dyad, reason in found.order_by("dyad_id", "rank").values_list("dyad_id", "reason"):
            reasons.setdefault(dyad, []).append(reason)
    return presenters.dyad_table_rows(rows, reasons)
