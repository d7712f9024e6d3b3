"""The weekly digest's figures: the waves it reports, their response rates and the open
alerts per reason, in the coordinator's language. A fixed number of queries a program."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext

from assessments.measurement import change, rules
from assessments.models import AlertFollowUp, DyadWaveResult, Response, Wave
from relationships.models import Dyad, Program

DIGEST_RECENT_DAYS = 7


def digest_waves(*, program: Program, now: dt.datetime) -> list[Wave]:
    """The program's waves open now or closed in the last week, by cohort and number."""
    recent = now - dt.timedelta(days=DIGEST_RECENT_DAYS)
    return list(
        Wave.objects.filter(cohort__program=program, opens_at__lte=now, closes_at__gt=recent)
        .select_related("cohort__program")
        .order_by("cohort__name", "number")
    )


def _expected(waves: list[Wave]) -> pd.DataFrame:
    """One row per active dyad × wave of the waves' cohorts, with stored results."""
    cohorts = {w.cohort_id for w in waves}
    dyads = pd.DataFrame.from_records(
        list(Dyad.objects.active().filter(cohort_id__in=cohorts).values_list("pk", "cohort_id")),
        columns=["dyad", "cohort"],
    )
    table = pd.DataFrame(
        [(w.pk, w.number, w.cohort_id) for w in waves], columns=["wave_id", "wave", "cohort"]
    )
    fields = ("state", "transition", "mentor_submitted", "protege_submitted", *rules.FLAGS)
    stored = DyadWaveResult.objects.filter(wave_id__in=table["wave_id"].tolist())
    results = pd.DataFrame.from_records(
        list(stored.values_list("dyad_id", "wave_id", *fields)),
        columns=["dyad", "wave_id", *fields],
    )
    frame = dyads.merge(table, on="cohort").merge(results, on=["dyad", "wave_id"], how="left")
    frame["state"] = frame["state"].astype(object).fillna("unplaced")
    frame["transition"] = frame["transition"].astype(object).fillna("")
    booleans = ["mentor_submitted", "protege_submitted", *rules.FLAGS]
    frame[booleans] = frame[booleans].astype(object).fillna(False).astype(bool)
    flags = frame[list(rules.FLAGS)]
    frame["flags"] = [tuple(n for n, on in zip(flags.columns, row, strict=True) if on)
                      for row in flags.to_numpy()]  # fmt: skip
    return frame


def open_alert_counts(
    *, waves: list[Wave], constants: rules.Constants, now: dt.datetime
) -> dict[int, dict[str, int]]:
    """Per wave id: the number of raised, not followed-up alerts per reason (§4.4)."""
    frame = _expected(waves)
    if frame.empty:
        return {}
    ids = {(w.cohort_id, w.number): w.pk for w in waves}
    pairs = zip(frame["cohort"], frame["wave"], strict=True)
    frame = frame.assign(wave=[ids[pair] for pair in pairs])
    closes = pd.Series({w.pk: (w.closes_at - now).total_seconds() / 86400 for w in waves})
    raised = change.alerts(frame.set_index(["dyad", "wave"]), closes, constants)
    followed = set(
        AlertFollowUp.objects.filter(wave_id__in=[w.pk for w in waves]).values_list(
            "dyad_id", "wave_id", "reason"
        )
    )
    counts: dict[int, dict[str, int]] = {}
    for dyad, wave, reason in raised[["dyad", "wave", "reason"]].itertuples(index=False):
        if (dyad, wave, reason) not in followed:
            per_wave = counts.setdefault(int(wave), {})
            per_wave[reason] = per_wave.get(reason, 0) + 1
    return counts


def percent(share: float) -> str:
    """``share`` (0.08) as the active language writes a whole percentage: "8%", "8 %"."""
    return gettext("%(percent)s%%") % {"percent": round(share * 100)}


def digest_rows(*, program: Program, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The digest's lines: per recent wave, its response rate and open alerts."""
    now = now or timezone.now()
    waves = digest_waves(program=program, now=now)
    if not waves:
        return []
    alerts = open_alert_counts(waves=waves, constants=program.constants, now=now)
    active = dict(
        Dyad.objects.active()
        .filter(cohort__in={w.cohort_id for w in waves})
        .values_list("cohort_id")
        .annotate(n=Count("pk"))
        .values_list("cohort_id", "n")
    )
    submitted = dict(
        Response.objects.submitted()
        .filter(wave__in=waves, dyad__is_active=True)
        .values_list("wave_id")
        .annotate(n=Count("pk"))
        .values_list("wave_id", "n")
    )
    rows = []
    for wave in waves:
        expected = 2 * active.get(wave.cohort_id, 0)
        done = submitted.get(wave.pk, 0)
        reasons = alerts.get(wave.pk, {})
        rows.append(
            {
                "cohort": wave.cohort.name,
                "cohort_object": wave.cohort,
                "wave": str(wave),
                "open": wave.is_open(now),
                "closes_at": wave.closes_at,
                "expected": expected,
                "submitted": done,
                "rate": percent(done / expected) if expected else "–",
                "alerts": [
                    (AlertFollowUp.Reason(reason).label, reasons[reason])
                    for reason in rules.ALERT_REASONS
                    if reason in reasons
                ],
            }
        )
    return rows
