"""Coordinator alerts (DESIGN §4.4): raised from stored results by ``change.alerts``,
taken off the open list by a stored follow-up, and dated stably."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from django.core.paginator import Page, Paginator
from django.db.models import Max
from django.utils import timezone

from assessments.measurement import change, rules
from assessments.models import AlertFollowUp, DyadWaveResult, Response, Wave
from relationships.models import Cohort, Dyad

from .. import presenters
from .frames import ALERTING, dyad_results_frame, dyads_frame, results_frame
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


def cohort_alerts_frame(
    cohort: Cohort, waves: list[Wave], frame: pd.DataFrame, now: dt.datetime
) -> pd.DataFrame:
    """``split_alerts`` of one cohort's results frame, under the program's constants."""
    alerts = alerts_frame(frame, waves=waves, constants=cohort.program.constants, now=now)
    return split_alerts(alerts, follow_ups_frame(cohorts=[cohort]))


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
) -> AlertList:
    """The cohort's alerts (DESIGN §4.4), newest first: open ones, or the followed up.

    The page's rows (see ``presenters.alert_rows``): ``dyad, code, mentor, protege,
    wave, wave_label, reason, reason_label, text, raised, open, note, by, at``.
    """
    now = timezone.now()
    waves = opened(cohort_waves(cohorts=[cohort]), now)
    dyads = dyads_frame(cohorts=[cohort], names=True)
    frame = results_frame(dyads=dyads, waves=waves, fields=ALERTING)
    alerts = cohort_alerts_frame(cohort, waves, frame, now)
    if wave_number:
        alerts = alerts[alerts["wave"] == wave_number]
    if reason:
        alerts = alerts[alerts["reason"] == reason]
    open_count = int(alerts["open"].sum())
    shown = alerts[alerts["open"] != followed]
    days = cohort.program.constants.alert_days_before_close
    times = submitted_times(cohort=cohort)
    shown = shown.assign(raised=raised_at(shown, times, waves=waves, days_before=days))
    shown = newest_first(shown, dyads)
    paged = Paginator(range(len(shown)), PAGE_SIZE).get_page(page)
    rows = shown.iloc[paged.start_index() - 1 : paged.end_index()] if len(shown) else shown
    paged.object_list = presenters.alert_rows(rows, wave_labels(waves))
    return AlertList(waves, paged, open_count, len(alerts) - open_count)
