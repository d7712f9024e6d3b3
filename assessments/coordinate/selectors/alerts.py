"""Coordinator alerts (DESIGN §4.4): raised from stored results by ``change.alerts``,
taken off the open list by a stored follow-up, and dated stably.

The cohort's list reads the open alerts and counts kept by ``results.aggregates``; one
dyad's alerts (its page, a follow-up) are derived from its stored results here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Case,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from assessments.measurement import change, rules
from assessments.models import AlertFollowUp, DyadWaveResult, OpenAlert, Response, Wave
from assessments.results import tallies
from relationships.models import Cohort, Dyad

from .. import presenters
from . import summary
from .frames import dyad_results_frame
from .waves import closes_in_days, cohort_waves, opened, wave_labels

PAGE_SIZE = 50
ALERT_TYPES = {"dyad": "int64", "wave": "int64", "reason": object}


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


def newest_first(alerts: pd.DataFrame, dyads: pd.DataFrame) -> pd.DataFrame:
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


def raised_alerts(*, dyad: Dyad, wave: Wave) -> set[str]:
    """Reasons of the alerts raised now for one dyad × wave, from its stored result."""
    now = timezone.now()
    if wave.opens_at > now:
        return set()
    results = {r.wave_id: r for r in DyadWaveResult.objects.filter(dyad=dyad, wave=wave)}
    frame = dyad_results_frame(dyad.pk, [wave], results)
    constants = wave.cohort.program.constants
    return set(alerts_frame(frame, waves=[wave], constants=constants, now=now)["reason"])


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
    waves: list[Wave] | None = None,
) -> AlertList:
    """The cohort's alerts (DESIGN §4.4), newest first: open ones, or the followed up.

    Counts come from the cohort's kept counts and the page's rows from the open alerts
    kept in the index order they are shown in (or from the follow-ups), so the cost
    follows the page, not the cohort. The rows (see ``presenters.alert_rows``): ``dyad,
    code, mentor, protege, wave, wave_label, reason, reason_label, text, raised, open,
    note, by, at``. ``waves``: the cohort's waves (``cohort_waves``), when the caller
    has read them.
    """
    now = timezone.now()
    every = cohort_waves(cohorts=[cohort]) if waves is None else waves
    days = cohort.program.constants.alert_days_before_close
    counts = summary.cohort_counts(cohort=cohort, waves=every, kinds=summary.ALERT_KINDS)
    chosen = [w for w in every if not wave_number or w.number == wave_number]
    shown = [w for w in opened(chosen, now)]
    reasons = [reason] if reason else list(rules.ALERT_REASONS)
    closing = summary.closing_waves(shown, now, days)
    open_count = sum(counts.open_alerts(w, closing=closing, reasons=reasons) for w in shown)
    followed_count = sum(counts.n(w, f"followed:{r}") for w in chosen for r in reasons)
    if followed:
        rows = Paginator(followed_rows(waves=chosen, reasons=reasons, days=days), PAGE_SIZE)
    else:
        listed = OpenAlerts(cohort, shown, reasons, closing, open_count)
        rows = Paginator(listed, PAGE_SIZE)
    paged = rows.get_page(page)
    found = [_followed(row) for row in paged.object_list] if followed else paged.object_list
    paged.object_list = presenters.alert_rows(found, wave_labels(every))
    return AlertList(opened(every, now), paged, open_count, followed_count)


def _followed(row: dict[str, Any]) -> dict[str, Any]:
    """A ``followed_rows`` row with ``by`` (the coordinator's name, else email)."""
    row = dict(row)
    first, last, email = row.pop("first"), row.pop("last"), row.pop("email")
    name = f"{first or ''} {last or ''}".strip()
    moved = {"dyad": row.pop("dyad_id"), "wave": row.pop("wave_number")}
    return {**row, **moved, "by": name or email or "", "open": False}


NEWEST_FIRST = ("-raised_sort", "code", "-wave_number", "rank")


class OpenAlerts:
    """The open alerts of some waves and reasons, newest first, as a sequence a
    ``Paginator`` slices: a slice reads at most its end's worth of rows from each of the
    two index-ordered lists (raised by results; a partner missing while ``closing``)."""

    def __init__(
        self, cohort: Cohort, waves: list[Wave], reasons: list[str], closing: set[int], total: int
    ) -> None:
        self.cohort, self.waves, self.reasons = cohort, waves, reasons
        self.closing, self.total = closing, total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, part: slice) -> list[dict[str, Any]]:
        found = OpenAlert.objects.filter(cohort=self.cohort, wave__in=self.waves)
        stop = part.stop or self.total
        lists = []
        raised_by_results = [r for r in self.reasons if r != tallies.TIMED]
        if raised_by_results:
            lists.append(found.filter(timed=False, reason__in=raised_by_results))
        if self.closing and tallies.TIMED in self.reasons:
            lists.append(found.filter(timed=True, wave_id__in=self.closing))
        rows = [row for rows in lists for row in _open_rows(rows, stop)]
        rows.sort(key=lambda row: row.pop("order"))
        return rows[part]


def _open_rows(rows: QuerySet, stop: int) -> list[dict[str, Any]]:
    """The first ``stop`` of ``rows`` newest first, with their dyads' names.

    The alerts are read in the order of the index ``open_alert_newest_first`` and cut
    at ``stop`` before they are joined to their dyads: a limited subquery stays one in
    the plan, so the database reads ``stop`` index entries and names ``stop`` dyads,
    however many alerts the cohort has open.
    """
    fields = ("dyad_id", "code", "wave_number", "reason", "raised_at", "raised_sort", "rank")
    first = rows.order_by(*NEWEST_FIRST).values_list(*fields)[:stop]
    inner, params = first.query.sql_with_params()
    names = ", ".join(f"a.{field}" for field in fields)
    sql = (
        f"SELECT {names}, d.mentor_name, d.protege_name FROM ({inner}) a "
        f'JOIN "{Dyad._meta.db_table}" d ON d.id = a.dyad_id'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return [
        {
            "dyad": dyad, "code": code, "mentor": mentor, "protege": protege, "wave": wave,
            "reason": reason, "raised": raised, "open": True, "note": None, "by": None,
            "at": None, "order": (-sort.timestamp(), code, -wave, rank),
        }
        for dyad, code, wave, reason, raised, sort, rank, mentor, protege in (
            (*row[:4], _aware(row[4]), _aware(row[5]), *row[6:]) for row in found
        )
    ]  # fmt: skip


def _aware(moment: dt.datetime | str | None) -> dt.datetime | None:
    """A stored time as the ORM reads it (SQLite gives naive UTC, or text)."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment is not None and timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def followed_rows(*, waves: list[Wave], reasons: list[str], days: int) -> QuerySet:
    """Follow-ups at ``waves`` for ``reasons`` as alert rows, newest raised first (dated
    as ``raised_at`` dates them: the later submission, or the close minus ``days``)."""
    later = (
        Response.objects.submitted()
        .filter(dyad=OuterRef("dyad"), wave=OuterRef("wave"))
        .order_by()
        .values("dyad")
        .annotate(last=Max("submitted_at"))
        .values("last")
    )
    window = ExpressionWrapper(
        F("wave__closes_at") - Value(dt.timedelta(days=days)), output_field=DateTimeField()
    )
    raised = Case(
        When(reason=tallies.TIMED, then=window),
        default=Subquery(later, output_field=DateTimeField()),
        output_field=DateTimeField(),
    )
    rank = Case(
        *[When(reason=r, then=Value(i)) for r, i in tallies.RANK.items()],
        output_field=IntegerField(),
    )
    rows = AlertFollowUp.objects.filter(wave__in=waves, reason__in=reasons)
    rows = rows.annotate(raised=raised, rank=rank).order_by(
        F("raised").desc(nulls_last=True), "dyad__research_code", "-wave__number", "rank"
    )
    return rows.values(
        "raised", "reason", "note", "dyad_id",
        code=F("dyad__research_code"), mentor=F("dyad__mentor_name"),
        protege=F("dyad__protege_name"), wave_number=F("wave__number"), at=F("created_at"),
        first=F("created_by__first_name"), last=F("created_by__last_name"),
        email=F("created_by__email"),
    )  # fmt: skip
