"""Reads of the coordinator pages (DESIGN §5, §7): stored results, never item answers.

Every page reads the stored ``DyadWaveResult`` rows; nothing here scores a dyad. The
one exception is ``cohort_psychometrics``, a cohort statistic over answers that shows
no item answer and no individual's score. Each read is one query whatever the number
of dyads or waves; the frames then feed ``change.alerts`` and ``charts``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relationships.models import Cohort, Dyad, Program

from . import charts, selectors
from .measurement import change, placement, psychometrics, rules
from .models import AlertFollowUp, Answer, DyadWaveResult, Invitation, Response, Subscale, Wave

PAGE_SIZE = 50
FLAG_FIELDS = DyadWaveResult.FLAG_FIELDS
STATES = charts.STATES
FLAG_LABELS = {
    "awaiting_partner": gettext_lazy("Awaiting partner"),
    "borderline": gettext_lazy("Near the boundary"),
    "marginal": gettext_lazy("Marginal career and psychosocial support"),
    "norms_incongruent": gettext_lazy("Communal norms incongruent"),
    "reliable_decline": gettext_lazy("Reliable decline"),
    "reliable_improvement": gettext_lazy("Reliable improvement"),
    "strain_reported": gettext_lazy("Strain reported"),
}
STATE_LABELS = dict(DyadWaveResult.State.choices)
TRANSITION_LABELS = dict(DyadWaveResult.Transition.choices)
# Stored result fields read into the frames, from the few charts need for every wave to
# everything a single wave's table, alerts and scatter need.
HISTORY = ("state", "mentor_submitted", "protege_submitted")
ALERTING = (*HISTORY, "transition", *FLAG_FIELDS)
DETAIL = (*ALERTING, "transition_reliable", "change", "position", "rel_mentor", "rel_protege")
BOOLEANS = ["transition_reliable", "mentor_submitted", "protege_submitted", *FLAG_FIELDS]
NUMBERS = ["change", "position", "rel_mentor", "rel_protege"]
ALERT_TYPES = {"dyad": "int64", "wave": "int64", "reason": object}
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
SEARCHED = ("research_code", "mentor__name", "protege__name", "mentor__research_code")
SEARCHED += ("protege__research_code", "mentor__user__email", "protege__user__email")
BATTERIES = ("rel", "car", "psy", "str", "ovr", "kram")
SIDES = ("mentor", "protege", "dyad")


@dataclass(frozen=True)
class Table:
    """A data table as templates render it: caption, column headers, rows of cells."""

    caption: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class Chart:
    """A figure ready for ``json_script``, its caption and its data-table alternative."""

    id: str
    title: str
    caption: str
    figure: dict[str, Any]
    table: Table
    columns: int = 6  # of the page grid's 12, on large screens

    @property
    def data_id(self) -> str:
        return f"{self.id}-data"


def chart_text() -> dict[str, str]:
    """``charts.TEXT`` in the current language."""
    words = {
        "mentor": _("Mentor"),
        "protege": _("Protégé"),
        "mentors": _("Mentors"),
        "proteges": _("Protégés"),
        "dyad": _("Dyad"),
        "wave": _("Wave"),
        "dyads": _("Dyads"),
        "position": _("Continuum position (0–100)"),
        "mentor_rel": _("Mentor REL (1–7)"),
        "protege_rel": _("Protégé REL (1–7)"),
        "identity": _("Partners agree"),
        "submitted": _("Submitted (%)"),
        "score": _("Score (1–7)"),
        "state": _("State"),
        "flags": _("Flags"),
        "none": _("none"),
        "of": _("of"),
        "no_data": _("No results yet."),
        "no_transitions": _("Transitions appear once two waves have results."),
    }
    labels = {**STATE_LABELS, **FLAG_LABELS}
    return {**words, **{key: str(label) for key, label in labels.items()}}


def _number(value: Any, digits: int = 2) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.0f} %"


# --- access and waves ----------------------------------------------------------------------


def programs_for(*, user) -> QuerySet[Program]:
    """The programs a user coordinates (every program for staff), with cohort counts."""
    return Program.objects.for_coordinator(user).annotate(cohort_count=Count("cohorts"))


def cohort_for(*, user, program: str, cohort: str) -> Cohort | None:
    """The cohort ``program/cohort`` when ``user`` may coordinate it, else None."""
    allowed = Program.objects.for_coordinator(user)
    found = Cohort.objects.select_related("program").filter(program__in=allowed)
    return found.filter(program__slug=program, slug=cohort).first()


def dyad_for(*, cohort: Cohort, code: str) -> Dyad | None:
    dyads = Dyad.objects.select_related("mentor__user", "protege__user")
    return dyads.filter(cohort=cohort, research_code=code).first()


def cohort_waves(*, cohorts: Iterable[Cohort]) -> list[Wave]:
    waves = Wave.objects.filter(cohort__in=list(cohorts)).select_related("instrument")
    return list(waves.order_by("cohort_id", "number"))


def opened(waves: Iterable[Wave], now: dt.datetime) -> list[Wave]:
    return [wave for wave in waves if wave.opens_at <= now]


def current_wave(waves: list[Wave], now: dt.datetime) -> Wave | None:
    """The latest wave that has opened, else the first scheduled one, else None."""
    started = opened(waves, now)
    return started[-1] if started else (waves[0] if waves else None)


def _chosen(waves: list[Wave], number: int | None, now: dt.datetime) -> Wave | None:
    by_number = {wave.number: wave for wave in waves}
    return by_number[number] if number in by_number else current_wave(waves, now)


def waves_table(waves: Iterable[Wave]) -> pd.DataFrame:
    """``wave, label, wave_id, cohort`` of the waves, in their order."""
    rows = [(w.number, str(w), w.pk, w.cohort_id) for w in waves]
    return pd.DataFrame(rows, columns=["wave", "label", "wave_id", "cohort"])


def closes_in_days(waves: Iterable[Wave], now: dt.datetime) -> pd.Series:
    """Days (fractional) until each wave closes, indexed by wave number."""
    days = {w.number: (w.closes_at - now).total_seconds() / 86400 for w in waves}
    return pd.Series(days, dtype=float)


# --- frames of stored results --------------------------------------------------------------


def dyads_frame(*, cohorts: Iterable[Cohort], names: bool = False) -> pd.DataFrame:
    """``dyad, cohort, code, is_active`` (and ``mentor, protege`` names) of the cohorts' dyads."""
    fields = ["pk", "cohort_id", "research_code", "is_active"]
    fields += ["mentor__name", "protege__name"] if names else []
    rows = Dyad.objects.filter(cohort__in=list(cohorts)).values_list(*fields)
    columns = ["dyad", "cohort", "code", "is_active", "mentor", "protege"][: len(fields)]
    return pd.DataFrame.from_records(list(rows), columns=columns)


def results_frame(
    *, dyads: pd.DataFrame, waves: list[Wave], fields: tuple[str, ...] = DETAIL
) -> pd.DataFrame:
    """One row per expected dyad × wave with stored result ``fields`` (one query).

    A dyad is expected in a wave when it is active or someone in it submitted; a row
    without a stored result is ``unplaced`` with nothing submitted. Columns: those of
    ``dyads_frame``, ``wave`` (number), ``wave_id``, ``fields`` (which must include
    ``HISTORY``) and, when flag fields are read, ``flags`` (sorted tuple of flag names,
    as ``placement.pack_flags`` packs them).
    """
    table = waves_table(waves)
    stored = DyadWaveResult.objects.filter(wave_id__in=table["wave_id"].tolist())
    records = list(stored.values_list("dyad_id", "wave_id", *fields))
    results = pd.DataFrame.from_records(records, columns=["dyad", "wave_id", *fields])
    frame = dyads.merge(table, on="cohort").merge(results, on=["dyad", "wave_id"], how="left")
    frame = _filled(frame)
    expected = frame["is_active"] | frame["mentor_submitted"] | frame["protege_submitted"]
    return frame[expected].reset_index(drop=True)


def _filled(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing results as ``unplaced`` with nothing submitted; flag fields packed."""
    present = set(frame.columns)
    fills = {"state": frame["state"].astype(object).fillna("unplaced")}
    if "transition" in present:
        fills["transition"] = frame["transition"].astype(object).fillna("")
    fills.update(
        {c: frame[c].astype(object).fillna(False).astype(bool) for c in BOOLEANS if c in present}
    )
    fills.update({c: frame[c].astype(float) for c in NUMBERS if c in present})
    frame = frame.assign(**fills)
    flags = [name for name in FLAG_FIELDS if name in present]
    return frame.assign(flags=placement.pack_flags(frame[flags])) if flags else frame


def _dyad_frame(dyad_id: int, waves: list[Wave], results: dict[int, Any]) -> pd.DataFrame:
    """``results_frame`` of one dyad from its results already loaded by wave id."""
    rows = [
        {
            **{name: getattr(results[w.pk], name) for name in DETAIL if w.pk in results},
            "dyad": dyad_id,
            "wave": w.number,
            "wave_id": w.pk,
        }
        for w in waves
    ]
    return _filled(pd.DataFrame(rows, columns=["dyad", "wave", "wave_id", *DETAIL]))


def alerts_frame(
    frame: pd.DataFrame, *, waves: list[Wave], constants: rules.Constants, now: dt.datetime
) -> pd.DataFrame:
    """``change.alerts`` of one cohort's results frame: ``dyad, wave, reason``."""
    if frame.empty:
        return pd.DataFrame({"dyad": [], "wave": [], "reason": []}).astype(ALERT_TYPES)
    found = change.alerts(frame.set_index(["dyad", "wave"]), closes_in_days(waves, now), constants)
    return found.astype(ALERT_TYPES)


def follow_ups_frame(*, cohorts: Iterable[Cohort], dyad: Dyad | None = None) -> pd.DataFrame:
    """Follow-ups of the cohorts' alerts: ``dyad, wave, reason, note, by, at`` (one query)."""
    follow_ups = AlertFollowUp.objects.filter(wave__cohort__in=list(cohorts))
    if dyad is not None:
        follow_ups = follow_ups.filter(dyad=dyad)
    rows = follow_ups.values_list(
        "dyad_id",
        "wave__number",
        "reason",
        "note",
        "created_by__first_name",
        "created_by__last_name",
        "created_by__email",
        "created_at",
    )
    columns = ["dyad", "wave", "reason", "note", "first", "last", "email", "at"]
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    names = (frame["first"].fillna("") + " " + frame["last"].fillna("")).str.strip()
    frame = frame.assign(by=names.where(names != "", frame["email"].fillna("")))
    return frame[["dyad", "wave", "reason", "note", "by", "at"]].astype(ALERT_TYPES)


def split_alerts(alerts: pd.DataFrame, follow_ups: pd.DataFrame) -> pd.DataFrame:
    """Raised alerts and every follow-up, with ``note, by, at`` and ``open``.

    ``open``: raised now and not followed up. A followed-up alert stays (``open``
    False) even once it is no longer raised, say after the missing partner submitted.
    """
    raised = alerts.assign(raised_now=True)
    merged = raised.merge(follow_ups, on=["dyad", "wave", "reason"], how="outer")
    now = merged["raised_now"].astype(object).fillna(False).astype(bool)
    return merged.assign(open=now & merged["at"].isna()).drop(columns="raised_now")


def submitted_times(*, cohort: Cohort) -> pd.DataFrame:
    """The later submission of each dyad × wave: ``dyad, wave, submitted_at`` (one query)."""
    rows = (
        Response.objects.submitted()
        .filter(wave__cohort=cohort)
        .values("dyad_id", "wave__number")
        .annotate(last=Max("submitted_at"))
        .values_list("dyad_id", "wave__number", "last")
    )
    return pd.DataFrame.from_records(list(rows), columns=["dyad", "wave", "submitted_at"])


def raised_at(
    alerts: pd.DataFrame, times: pd.DataFrame, *, waves: list[Wave], days_before: int
) -> pd.Series:
    """When each alert was raised, derived stably from stored times (UTC timestamps).

    ``partner_missing``: the wave's close minus ``days_before`` days; any other reason:
    the later submission of that dyad × wave.
    """
    merged = alerts[["dyad", "wave", "reason"]].merge(times, on=["dyad", "wave"], how="left")
    windows = {w.number: w.closes_at - dt.timedelta(days=days_before) for w in waves}
    window = pd.to_datetime(merged["wave"].map(windows), utc=True)
    submitted = pd.to_datetime(merged["submitted_at"], utc=True)
    missing = merged["reason"] == "partner_missing"
    return submitted.where(~missing, window).set_axis(alerts.index)


def _cohort_alerts(cohort: Cohort, waves: list[Wave], frame: pd.DataFrame, now) -> pd.DataFrame:
    alerts = alerts_frame(frame, waves=waves, constants=cohort.program.constants, now=now)
    return split_alerts(alerts, follow_ups_frame(cohorts=[cohort]))


def raised_alerts(*, dyad: Dyad, wave: Wave) -> set[str]:
    """Reasons of the alerts raised now for one dyad × wave, from its stored result."""
    now = timezone.now()
    if wave.opens_at > now:
        return set()
    results = {r.wave_id: r for r in DyadWaveResult.objects.filter(dyad=dyad, wave=wave)}
    frame = _dyad_frame(dyad.pk, [wave], results)
    constants = wave.cohort.program.constants
    return set(alerts_frame(frame, waves=[wave], constants=constants, now=now)["reason"])


# --- cohort dashboard ----------------------------------------------------------------------


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
    charts: list[Chart]
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
    chosen = _chosen(waves, filters.get("wave"), now)
    dyads = dyads_frame(cohorts=[cohort])
    history = results_frame(dyads=dyads, waves=started, fields=HISTORY)
    current = results_frame(dyads=dyads, waves=[w for w in started if w == chosen])
    alerts = _cohort_alerts(cohort, started, current, now)
    table = Paginator(dyad_rows(cohort=cohort, wave=chosen, filters=filters), PAGE_SIZE)
    shown = table.get_page(page)
    shown.object_list = decorate_rows(shown.object_list, alerts, chosen)
    return CohortDashboard(
        waves=waves,
        wave=chosen,
        headline=_headline(current, alerts, chosen),
        charts=_cohort_charts(history, current, started, chosen, chart_text()),
        page=shown,
    )


def _headline(frame: pd.DataFrame, alerts: pd.DataFrame, wave: Wave | None) -> Headline:
    number = wave.number if wave else None
    rows = frame[frame["wave"] == number]
    submitted = int(rows["mentor_submitted"].sum() + rows["protege_submitted"].sum())
    counts = rows["state"].value_counts()
    return Headline(
        expected=len(rows),
        submitted=submitted,
        rate=100 * submitted / (2 * len(rows)) if len(rows) else None,
        states=[(s, str(STATE_LABELS[s]), int(counts.get(s, 0))) for s in STATES],
        open_alerts=int((alerts["open"] & (alerts["wave"] == number)).sum()),
    )


def _cohort_charts(history, current, waves: list[Wave], chosen: Wave | None, words) -> list[Chart]:
    table = waves_table(waves)
    return [
        _state_chart(charts.state_counts(history, table), words),
        _rate_chart(charts.response_rates(history, table), words),
        _transition_chart(charts.transition_counts(history), table, words),
        _agreement_chart(current, chosen, words),
    ]


def _state_chart(counts: pd.DataFrame, words: dict[str, str]) -> Chart:
    rows = [
        [label, *group.set_index("state").loc[list(STATES), "n"].astype(int).tolist()]
        for (_wave, label), group in counts.groupby(["wave", "label"], sort=False)
    ]
    title = _("Dyads per state and wave")
    return Chart(
        id="chart-states",
        title=title,
        caption=_("Stacked bars: how many dyads sit in each state at each wave."),
        figure=charts.figure_data(charts.state_distribution_figure(counts, words)),
        table=Table(title, [_("Wave"), *[words[s] for s in STATES]], rows),
    )


def _transition_chart(links: pd.DataFrame, waves: pd.DataFrame, words: dict[str, str]) -> Chart:
    label = dict(zip(waves["wave"], waves["label"], strict=True))
    rows = [
        [label[r.wave_from], words[r.state_from], label[r.wave_to], words[r.state_to], r.n]
        for r in links.itertuples()
    ]
    headers = [_("From wave"), _("From state"), _("To wave"), _("To state"), _("Dyads")]
    return Chart(
        id="chart-transitions",
        title=_("Movement between consecutive waves"),
        caption=_("Each band carries the dyads that moved from one state to the next."),
        figure=charts.figure_data(charts.transitions_figure(links, waves, words)),
        table=Table(_("Dyads moving between states"), headers, rows),
        columns=8,
    )


def _agreement_chart(points: pd.DataFrame, wave: Wave | None, words: dict[str, str]) -> Chart:
    both = points.dropna(subset=["rel_mentor", "rel_protege"])
    groups = ((words[s], both[both["state"] == s]) for s in STATES)
    rows = [
        [name, len(g), _number(g["rel_mentor"].mean()), _number(g["rel_protege"].mean())]
        for name, g in groups
        if len(g)
    ]
    caption = _(
        "Each dot is a dyad at %(wave)s: the mentor's REL across, the protégé's REL up. "
        "Dots on the dashed line are dyads whose partners see the relationship alike."
    ) % {"wave": wave or _("the current wave")}
    if len(both) >= rules.MIN_GROUP and both["rel_mentor"].std() and both["rel_protege"].std():
        r = both["rel_mentor"].corr(both["rel_protege"])
        caption += " " + _("Pearson r = %(r).2f over %(n)d dyads.") % {"r": r, "n": len(both)}
    headers = [_("State"), _("Dyads"), _("Mean mentor REL"), _("Mean protégé REL")]
    return Chart(
        id="chart-agreement",
        title=_("Partner agreement on relational quality"),
        caption=caption,
        figure=charts.figure_data(charts.agreement_figure(points, words)),
        table=Table(_("Mean REL of each partner by state"), headers, rows),
        columns=4,
    )


def _rate_chart(rates: pd.DataFrame, words: dict[str, str]) -> Chart:
    rows = [
        [r.label, r.expected, r.mentors, r.proteges, _percent(r.rate)] for r in rates.itertuples()
    ]
    headers = [_("Wave"), _("Dyads expected"), _("Mentors"), _("Protégés"), _("Response rate")]
    return Chart(
        id="chart-rates",
        title=_("Response rate per wave"),
        caption=_("Share of the expected mentors and protégés who submitted."),
        figure=charts.figure_data(charts.response_rate_figure(rates, words)),
        table=Table(_("Responses per wave"), headers, rows),
    )


# --- dyad table ---------------------------------------------------------------------------


def dyad_rows(
    *, cohort: Cohort, wave: Wave | None, filters: Mapping[str, Any]
) -> QuerySet[Dyad, dict[str, Any]]:
    """Dyads of the cohort with the chosen wave's stored result, filtered and sorted.

    ``filters`` keys (all optional): ``state``, ``flag``, ``transition``, ``response``
    (a key of ``RESPONSE_FILTERS``), ``status`` (``active`` by default, ``ended``,
    ``all``), ``q`` (name, email or research code) and ``sort`` (a key of ``SORTS``,
    ``-`` first for descending). Rows are dicts; the database pages them.
    """
    flags = {f"flag_{name}": Coalesce(F(f"result__{name}"), Value(False)) for name in FLAG_FIELDS}
    rows = (
        Dyad.objects.filter(cohort=cohort)
        .annotate(result=FilteredRelation("results", condition=Q(results__wave_id=_id(wave))))
        .annotate(
            mentor_name=F("mentor__name"),
            protege_name=F("protege__name"),
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
    ranks = [When(result__state=s, then=Value(rank)) for rank, s in enumerate(STATES[:3])]
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
    return [
        {
            **row,
            "state_label": STATE_LABELS.get(row["state"], row["state"]),
            "flags": [FLAG_LABELS[name] for name in FLAG_FIELDS if row[f"flag_{name}"]],
            "alerts": [AlertFollowUp.Reason(r).label for r in reasons.get(row["pk"], [])],
        }
        for row in rows
    ]


# --- alerts list ---------------------------------------------------------------------------


@dataclass
class AlertList:
    waves: list[Wave]
    page: Page
    open_count: int
    followed_count: int


def cohort_alerts(
    *,
    cohort: Cohort,
    followed: bool = False,
    wave_number: int | None = None,
    reason: str = "",
    page: int | str | None = 1,
) -> AlertList:
    """The cohort's alerts (DESIGN §4.4), newest first: open ones, or the followed up.

    The page's rows (see ``_alert_rows``): ``dyad, code, mentor, protege, wave,
    wave_label, reason, reason_label, text, raised, open, note, by, at``.
    """
    now = timezone.now()
    waves = opened(cohort_waves(cohorts=[cohort]), now)
    dyads = dyads_frame(cohorts=[cohort], names=True)
    frame = results_frame(dyads=dyads, waves=waves, fields=ALERTING)
    alerts = _cohort_alerts(cohort, waves, frame, now)
    if wave_number:
        alerts = alerts[alerts["wave"] == wave_number]
    if reason:
        alerts = alerts[alerts["reason"] == reason]
    open_count = int(alerts["open"].sum())
    shown = alerts[alerts["open"] != followed]
    days = cohort.program.constants.alert_days_before_close
    times = submitted_times(cohort=cohort)
    shown = shown.assign(raised=raised_at(shown, times, waves=waves, days_before=days))
    shown = _newest_first(shown, dyads)
    paged = Paginator(range(len(shown)), PAGE_SIZE).get_page(page)
    rows = shown.iloc[paged.start_index() - 1 : paged.end_index()] if len(shown) else shown
    paged.object_list = _alert_rows(rows, waves)
    return AlertList(waves, paged, open_count, len(alerts) - open_count)


def _newest_first(alerts: pd.DataFrame, dyads: pd.DataFrame) -> pd.DataFrame:
    """Alerts with the dyads' codes and names, newest first, then by dyad and reason."""
    merged = alerts.merge(dyads[["dyad", "code", "mentor", "protege"]], on="dyad")
    rank = merged["reason"].map({reason: i for i, reason in enumerate(rules.ALERT_REASONS)})
    ordered = merged.assign(rank=rank).sort_values(
        ["raised", "code", "wave", "rank"],
        ascending=[False, True, False, True],
        na_position="last",
        kind="stable",
    )
    return ordered.drop(columns="rank")


def _alert_rows(alerts: pd.DataFrame, waves: list[Wave]) -> list[dict]:
    """Alerts (already with names and ``raised``) as template rows, in their order."""
    labels = {w.number: str(w) for w in waves}
    return [
        {
            **row,
            "wave_label": labels.get(row["wave"], row["wave"]),
            "reason_label": AlertFollowUp.Reason(row["reason"]).label,
            "text": _(rules.ALERT_TEXT[row["reason"]]),
            "raised": None if pd.isna(row["raised"]) else row["raised"].to_pydatetime(),
            "at": None if pd.isna(row["at"]) else row["at"],
        }
        for row in alerts.to_dict("records")
    ]


# --- program overview ----------------------------------------------------------------------


def program_overview(*, program: Program) -> list[dict[str, Any]]:
    """One summary per cohort: active dyads and the current wave's headline numbers."""
    now = timezone.now()
    cohorts = list(program.cohorts.all())
    waves = cohort_waves(cohorts=cohorts)
    current = {c.pk: current_wave([w for w in waves if w.cohort_id == c.pk], now) for c in cohorts}
    live = [w for w in current.values() if w is not None and w.opens_at <= now]
    dyads = dyads_frame(cohorts=cohorts)
    frame = results_frame(dyads=dyads, waves=live, fields=ALERTING)
    follow_ups = follow_ups_frame(cohorts=cohorts)
    summaries = []
    for cohort in cohorts:
        wave = current[cohort.pk] if current[cohort.pk] in live else None
        mine = frame[frame["cohort"] == cohort.pk]
        found = alerts_frame(
            mine, waves=[wave] if wave else [], constants=program.constants, now=now
        )
        summaries.append(
            {
                "cohort": cohort,
                "wave": current[cohort.pk],
                "dyads": int(dyads.loc[dyads["cohort"] == cohort.pk, "is_active"].sum()),
                "headline": _headline(mine, split_alerts(found, follow_ups), wave),
            }
        )
    return summaries


# --- dyad detail ---------------------------------------------------------------------------


@dataclass
class DyadDetail:
    waves: list[Wave]
    trajectory: Chart
    profile: Chart
    profile_wave: Wave | None
    scores: Table
    wave_rows: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    remindable: list[dict[str, Any]]


def dyad_detail(*, dyad: Dyad, cohort: Cohort, profile_wave: int | None = None) -> DyadDetail:
    """Everything the dyad page shows, from the dyad's stored results (six queries)."""
    now = timezone.now()
    constants = cohort.program.constants
    waves = opened(cohort_waves(cohorts=[cohort]), now)
    results = {r.wave_id: r for r in DyadWaveResult.objects.filter(dyad=dyad)}
    responses = list(
        Response.objects.filter(dyad=dyad).values_list("wave_id", "role", "status", "submitted_at")
    )
    alerts = alerts_frame(
        _dyad_frame(dyad.pk, waves, results), waves=waves, constants=constants, now=now
    )
    alerts = split_alerts(alerts, follow_ups_frame(cohorts=[cohort], dyad=dyad))
    raised = raised_at(
        alerts,
        _times(dyad, responses, waves),
        waves=waves,
        days_before=constants.alert_days_before_close,
    )
    names = pd.DataFrame(
        [(dyad.pk, dyad.research_code, dyad.mentor.name, dyad.protege.name)],
        columns=["dyad", "code", "mentor", "protege"],
    )
    chosen = _profile_wave(waves, results, profile_wave)
    edges = charts.band_edges(constants.dysfunctional_rel, constants.relational_rel)
    words = chart_text()
    return DyadDetail(
        waves=waves,
        trajectory=_trajectory_chart(_trajectory_frame(waves, results), edges, words),
        profile=_profile_chart(chosen, results, words),
        profile_wave=chosen,
        scores=_scores_table(waves, results),
        wave_rows=_wave_rows(dyad, waves, results, responses, _invitations(dyad), now),
        alerts=_alert_rows(_newest_first(alerts.assign(raised=raised), names), waves),
        remindable=_remindable(dyad, waves, responses, now),
    )


def _times(dyad: Dyad, responses: list[tuple], waves: list[Wave]) -> pd.DataFrame:
    """``submitted_times`` of one dyad from its responses already loaded."""
    number = {w.pk: w.number for w in waves}
    latest: dict[int, dt.datetime] = {}
    for wave_id, _role, status, submitted_at in responses:
        if status == Response.Status.SUBMITTED and wave_id in number:
            key = number[wave_id]
            latest[key] = max(latest.get(key, submitted_at), submitted_at)
    rows = [(dyad.pk, wave, at) for wave, at in latest.items()]
    return pd.DataFrame(rows, columns=["dyad", "wave", "submitted_at"]).astype(
        {"dyad": "int64", "wave": "int64"}
    )


def _invitations(dyad: Dyad) -> dict[tuple[int, int], dict[str, Any]]:
    rows = Invitation.objects.filter(dyad=dyad).values(
        "wave_id", "participant_id", "sent_at", "reminded_at", "reminder_count"
    )
    return {(row["wave_id"], row["participant_id"]): row for row in rows}


def _profile_wave(waves: list[Wave], results: dict, number: int | None) -> Wave | None:
    """The wave asked for if it has subscale scores, else the latest that has them."""
    scored = [w for w in waves if w.pk in results and _has_subscales(results[w.pk])]
    asked = [w for w in scored if w.number == number]
    return asked[0] if asked else (scored[-1] if scored else None)


def _has_subscales(result: DyadWaveResult) -> bool:
    sides = (result.subscales or {}).values()
    return any(value is not None for side in sides for value in (side or {}).values())


def _trajectory_frame(waves: list[Wave], results: dict) -> pd.DataFrame:
    """One row per wave in ``charts.trajectory_figure``'s columns."""
    scores = [f"{battery}_{side}" for battery in ("rel", "psy", "str") for side in SIDES]
    rows = []
    for wave in waves:
        result = results.get(wave.pk)
        rows.append(
            {
                "wave": wave.number,
                "label": str(wave),
                "state": result.state if result else "unplaced",
                "position": result.position if result else None,
                "flags": tuple(result.flags) if result else (),
                **{name: getattr(result, name) if result else None for name in scores},
            }
        )
    columns = ["wave", "label", "state", "position", "flags", *scores]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in ["position", *scores]})


def _trajectory_chart(frame: pd.DataFrame, edges: tuple[float, float], words) -> Chart:
    rows = [
        [
            row["label"],
            words.get(row["state"], row["state"]),
            _number(row["position"], 0),
            _number(charts.rel_to_position(row["rel_mentor"]), 0),
            _number(charts.rel_to_position(row["rel_protege"]), 0),
            ", ".join(words.get(flag, flag) for flag in row["flags"]) or "–",
        ]
        for row in frame.to_dict("records")
    ]
    cuts = {"low": edges[0] * 6 / 100 + 1, "high": edges[1] * 6 / 100 + 1}
    caption = _(
        "Continuum position per wave (0–100). The bands mark the REL cuts of placement "
        "(%(low).1f and %(high).1f); the dot's colour is the placed state, which also "
        "weighs PSY, strain and each partner's own scores."
    )
    headers = [_("Wave"), _("State"), _("Dyad"), _("Mentor REL"), _("Protégé REL"), _("Flags")]
    return Chart(
        id="chart-trajectory",
        title=_("Trajectory on the continuum"),
        caption=caption % cuts,
        figure=charts.figure_data(charts.trajectory_figure(frame, edges, words)),
        table=Table(_("Position per wave (0–100)"), headers, rows),
    )


def _profile_chart(wave: Wave | None, results: dict, words: dict[str, str]) -> Chart:
    sides = (results[wave.pk].subscales if wave else {}) or {}
    mentor, protege = sides.get("mentor") or {}, sides.get("protege") or {}
    rows = [(code, title, mentor.get(code), protege.get(code)) for code, title in _rel_titles(wave)]
    profile = pd.DataFrame(rows, columns=["subscale", "title", "mentor", "protege"])
    profile = profile.astype({"mentor": float, "protege": float})
    cells = [[r.title, _number(r.mentor), _number(r.protege)] for r in profile.itertuples()]
    return Chart(
        id="chart-profile",
        title=_("Relational functions profile"),
        caption=_("Each partner's REL subscale scores (1–7) at %(wave)s.")
        % {"wave": wave or _("the latest wave")},
        figure=charts.figure_data(charts.profile_figure(profile, words)),
        table=Table(_("REL subscale scores"), [_("Subscale"), _("Mentor"), _("Protégé")], cells),
    )


def _rel_titles(wave: Wave | None) -> list[tuple[str, str]]:
    if wave is None:
        return []
    rel = Subscale.objects.filter(battery__instrument_id=wave.instrument_id, battery__code="REL")
    return list(rel.order_by("order").values_list("code", "title"))


def _scores_table(waves: list[Wave], results: dict) -> Table:
    side_names = {"mentor": _("mentor"), "protege": _("protégé"), "dyad": _("dyad")}
    rows = [
        [
            f"{battery.upper()} {side_names[side]}",
            *[_number(getattr(results.get(w.pk), f"{battery}_{side}", None)) for w in waves],
        ]
        for battery in BATTERIES
        for side in SIDES
    ]
    caption = _("Battery scores per wave (REL, CAR, PSY, OVR and KRAM on 1–7; STR on 1–5)")
    return Table(caption, [_("Score"), *[str(w) for w in waves]], rows)


def _wave_rows(dyad, waves, results, responses, invitations, now) -> list[dict[str, Any]]:
    """Per wave, newest first: state, change, flags and each partner's response status."""
    status = {(wave_id, role): (s, at) for wave_id, role, s, at in responses}
    people = {"mentor": dyad.mentor_id, "protege": dyad.protege_id}
    rows = []
    for wave in reversed(waves):
        result = results.get(wave.pk)
        row = {
            "wave": wave,
            "is_open": wave.closes_at > now,
            "state": result.state if result else "unplaced",
            "change": result.change if result else None,
            "transition": TRANSITION_LABELS.get(result.transition, "") if result else "",
            "reliable": bool(result and result.transition_reliable),
            "flags": [FLAG_LABELS[name] for name in result.flags] if result else [],
        }
        for role, person in people.items():
            row[role] = _response_status(status.get((wave.pk, role)))
            row[f"{role}_invitation"] = invitations.get((wave.pk, person))
        row["state_label"] = STATE_LABELS[row["state"]]
        rows.append(row)
    return rows


def _response_status(found: tuple | None) -> dict[str, Any]:
    if found is None:
        return {"code": "not_started", "label": _("Not started"), "at": None}
    if found[0] == Response.Status.SUBMITTED:
        return {"code": "submitted", "label": _("Submitted"), "at": found[1]}
    return {"code": "draft", "label": _("In progress"), "at": None}


def _remindable(dyad: Dyad, waves: list[Wave], responses: list[tuple], now) -> list[dict]:
    """The partners of an active dyad who have not submitted in a wave open now."""
    done = {(w, role) for w, role, status, _at in responses if status == Response.Status.SUBMITTED}
    people = {"mentor": dyad.mentor, "protege": dyad.protege}
    return [
        {"wave": wave, "role": role, "person": person}
        for wave in waves
        if dyad.is_active and wave.closes_at > now
        for role, person in people.items()
        if (wave.pk, role) not in done
    ]


# --- psychometrics -------------------------------------------------------------------------


@dataclass
class Psychometrics:
    waves: list[Wave]
    wave: Wave | None
    subscales: list[dict[str, Any]]
    agreement: list[dict[str, Any]]
    min_group: int = rules.MIN_GROUP


def cohort_psychometrics(*, cohort: Cohort, wave_number: int | None = None) -> Psychometrics:
    """DESIGN §4.5 for one wave: subscale statistics by role, and partner agreement.

    Reads the wave's submitted answers in one query; only group statistics leave this
    function (groups under ``rules.MIN_GROUP`` suppressed). Agreement reads the
    stored results.
    """
    now = timezone.now()
    waves = opened(cohort_waves(cohorts=[cohort]), now)
    wave = _chosen(waves, wave_number, now)
    if wave is None:
        return Psychometrics(waves, None, [], [])
    answers, items, responses = _wave_answers(wave)
    if answers.empty or items.empty:  # nothing to describe yet
        return Psychometrics(waves, wave, [], _agreement_rows(wave))
    stats = psychometrics.psychometrics(answers, items, responses)
    titles = Subscale.objects.filter(battery__instrument_id=wave.instrument_id)
    titles = dict(titles.values_list("code", "title"))
    return Psychometrics(waves, wave, _psychometric_rows(stats, titles), _agreement_rows(wave))


def _wave_answers(wave: Wave) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``answers, items, responses`` of the wave's submitted responses, as ``scoring`` reads."""
    submitted = Response.objects.submitted().filter(wave=wave)
    responses = pd.DataFrame.from_records(
        list(submitted.values_list("id", "dyad_id", "wave__number", "role")),
        columns=rules.RESPONSES_COLUMNS,
    )
    rows = Answer.objects.filter(response__in=submitted).values_list(
        "response_id",
        "response__dyad_id",
        "response__wave__number",
        "response__role",
        "item__code",
        "value",
    )
    answers = pd.DataFrame.from_records(
        list(rows.iterator(chunk_size=selectors.ANSWER_CHUNK)), columns=rules.ANSWERS_COLUMNS
    ).astype({"value": float})
    items = selectors.items_frame(instrument_ids=[wave.instrument_id]).drop(columns="instrument")
    return answers, items, responses


def _psychometric_rows(stats: pd.DataFrame, titles: dict[str, str]) -> list[dict[str, Any]]:
    roles = {"mentor": _("Mentors"), "protege": _("Protégés")}
    return [
        {
            "subscale": row["subscale"],
            "title": titles.get(row["subscale"], row["subscale"]),
            "role": roles.get(row["role"], row["role"]),
            "suppressed": bool(row["suppressed"]),
            "n": int(row["n"]),
            "mean": _number(row["mean"]),
            "sd": _number(row["sd"]),
            "alpha": _number(row["alpha"]),
            "missing": _percent(100 * row["missing_share"]),
            "na": _percent(100 * row["na_share"]),
        }
        for row in stats.to_dict("records")
    ]


def _agreement_rows(wave: Wave) -> list[dict[str, Any]]:
    """Partner agreement per battery from the wave's stored results (one query)."""
    fields = [f"{battery}_{side}" for battery in BATTERIES for side in ("mentor", "protege")]
    records = list(DyadWaveResult.objects.filter(wave=wave).values_list(*fields))
    frame = pd.DataFrame.from_records(records, columns=fields).astype(float)
    frame.columns = [f"{name.split('_')[0].upper()}_{name.split('_')[1]}" for name in fields]
    agreement = psychometrics.partner_agreement(frame.assign(wave=wave.number))
    return [
        {
            "battery": row["battery"],
            "n": int(row["n"]),
            "r": _number(row["r"]),
            "suppressed": bool(row["suppressed"]),
        }
        for row in agreement.to_dict("records")
    ]


# --- management ---------------------------------------------------------------------------


def waves_overview(*, cohort: Cohort) -> list[Wave]:
    """The cohort's waves with ``submitted`` responses, ``invited`` people and ``closed``."""
    submitted = Response.objects.submitted().filter(wave=OuterRef("pk"))
    invited = Invitation.objects.filter(wave=OuterRef("pk"), sent_at__isnull=False)
    waves = Wave.objects.filter(cohort=cohort).select_related("instrument")
    waves = waves.annotate(submitted=_count(submitted), invited=_count(invited))
    now = timezone.now()
    found = list(waves.order_by("number"))
    for wave in found:
        wave.closed = wave.closes_at <= now
    return found


def _count(rows: QuerySet) -> Coalesce:
    counted = rows.order_by().values("wave").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
