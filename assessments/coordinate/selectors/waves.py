"""Waves of the coordinator's cohorts: which exist, which have opened, which a page shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from assessments.models import Invitation, Response, Wave
from relationships.models import Cohort, Dyad


def cohort_waves(*, cohorts: Iterable[Cohort]) -> list[Wave]:
    """The cohorts' waves with their instruments, by cohort and number (one query)."""
    waves = Wave.objects.filter(cohort__in=list(cohorts)).select_related("instrument")
    return list(waves.order_by("cohort_id", "number"))


def opened(waves: Iterable[Wave], now: dt.datetime) -> list[Wave]:
    return [wave for wave in waves if wave.opens_at <= now]


def since_start(waves: Iterable[Wave], dyad: Dyad, answered: Iterable[int] = ()) -> list[Wave]:
    """The waves a dyad takes part in: those still open on the day it started or later,
    and any earlier one it has answers or results in (``answered``: wave ids; a dyad
    imported with its history keeps that history)."""
    kept = set(answered)
    return [
        wave
        for wave in waves
        if wave.pk in kept or timezone.localdate(wave.closes_at) >= dyad.started_on
    ]


def current_wave(waves: list[Wave], now: dt.datetime) -> Wave | None:
    """The latest wave that has opened, else the first scheduled one, else None."""
    started = opened(waves, now)
    return started[-1] if started else (waves[0] if waves else None)


def chosen_wave(waves: list[Wave], number: int | None, now: dt.datetime) -> Wave | None:
    """The wave numbered ``number`` among ``waves``, else the current one."""
    by_number = {wave.number: wave for wave in waves}
    return by_number[number] if number in by_number else current_wave(waves, now)


def waves_table(waves: Iterable[Wave]) -> pd.DataFrame:
    """``wave, label, wave_id, cohort`` of the waves, in their order."""
    rows = [(w.number, str(w), w.pk, w.cohort_id) for w in waves]
    return pd.DataFrame(rows, columns=["wave", "label", "wave_id", "cohort"])


def wave_labels(waves: Iterable[Wave]) -> dict[int, str]:
    return {wave.number: str(wave) for wave in waves}


def closes_in_days(waves: Iterable[Wave], now: dt.datetime) -> pd.Series:
    """Days (fractional) until each wave closes, indexed by wave number."""
    days = {w.number: (w.closes_at - now).total_seconds() / 86400 for w in waves}
    return pd.Series(days, dtype=float)


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
