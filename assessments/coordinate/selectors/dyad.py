"""The dyad page (DESIGN §1, §5): trajectory, profile, scores, waves, alerts, reminders
and each partner's timeline of emails and answering.

Everything comes from the dyad's stored results, response statuses, invitations and
times, never from its item answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from assessments.measurement import rules
from assessments.models import DyadWaveResult, Invitation, Response, Role, Subscale, Wave
from delivery.models import Delivery
from relationships.models import Cohort, Dyad

from .. import charts, presenters
from .alerts import alerts_frame, follow_ups_frame, newest_first, raised_at, split_alerts
from .frames import dyad_results_frame
from .waves import cohort_waves, opened, since_start, wave_labels

SIDES = (*rules.ROLES, "dyad")
SCORES = tuple(f"{score.lower()}_{side}" for score in rules.SCORE_COLUMNS for side in SIDES)
Results = dict[int, DyadWaveResult]  # a dyad's stored results by wave id


@dataclass
class DyadDetail:
    waves: list[Wave]
    trajectory: presenters.Chart
    profile: presenters.Chart
    profile_wave: Wave | None
    scores: presenters.Table
    wave_rows: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    remindable: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


def dyad_detail(*, dyad: Dyad, cohort: Cohort, profile_wave: int | None = None) -> DyadDetail:
    """Everything the dyad page shows, from the dyad's stored results (six queries)."""
    now = timezone.now()
    constants = cohort.program.constants
    results = {r.wave_id: r for r in DyadWaveResult.objects.filter(dyad=dyad)}
    rows = Response.objects.filter(dyad=dyad).annotate(first_answer=Min("answers__answered_at"))
    rows = list(rows.values_list("wave_id", "role", "status", "submitted_at", "first_answer"))
    answered = {*results, *(row[0] for row in rows)}
    waves = since_start(opened(cohort_waves(cohorts=[cohort]), now), dyad, answered)
    responses = [row[:4] for row in rows]
    first_answers = {(wave_id, role): first for wave_id, role, _s, _at, first in rows}
    invitations = _invitations(dyad)
    chosen = _profile_wave(waves, results, profile_wave)
    edges = charts.band_edges(constants.dysfunctional_rel, constants.relational_rel)
    words = presenters.chart_words()
    scores = _scores_frame(waves, results)
    return DyadDetail(
        waves=waves,
        trajectory=presenters.trajectory_chart(scores, edges, words),
        profile=presenters.profile_chart(_profile(chosen, results), chosen, words),
        profile_wave=chosen,
        scores=presenters.scores_table(scores, waves),
        wave_rows=_wave_rows(dyad, waves, results, responses, invitations, now),
        alerts=_alerts(dyad, cohort, waves, results, responses, now),
        remindable=_remindable(dyad, waves, responses, now),
        timeline=_timeline(dyad, waves, responses, first_answers, invitations),
    )


def _alerts(
    dyad: Dyad,
    cohort: Cohort,
    waves: list[Wave],
    results: Results,
    responses: list[tuple],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The dyad's alerts, raised or followed up, newest first, as template rows."""
    constants = cohort.program.constants
    frame = dyad_results_frame(dyad.pk, waves, results)
    alerts = alerts_frame(frame, waves=waves, constants=constants, now=now)
    alerts = split_alerts(alerts, follow_ups_frame(cohorts=[cohort], dyad=dyad))
    times = _times(dyad, responses, waves)
    days = constants.alert_days_before_close
    raised = raised_at(alerts, times, waves=waves, days_before=days)
    names = pd.DataFrame(
        [(dyad.pk, dyad.research_code, dyad.mentor_name, dyad.protege_name)],
        columns=["dyad", "code", "mentor", "protege"],
    )
    return presenters.alert_rows(
        newest_first(alerts.assign(raised=raised), names), wave_labels(waves)
    )


def _times(dyad: Dyad, responses: list[tuple], waves: list[Wave]) -> pd.DataFrame:
    """``alerts.submitted_times`` of one dyad from its responses already loaded."""
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
    """The dyad's invitations by (wave, participant): when each was sent, reminded and
    its link used, and how many of its emails wait or failed (one query)."""
    waiting = [Delivery.Status.QUEUED, Delivery.Status.SENDING]
    rows = (
        Invitation.objects.filter(dyad=dyad)
        .annotate(
            waiting=Count("deliveries", filter=Q(deliveries__status__in=waiting)),
            failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        )
        .values(
            "wave_id", "participant_id", "sent_at", "reminded_at", "reminder_count", "used_at",
            "last_used_at", "revoked_at", "waiting", "failed",
        )
    )  # fmt: skip
    return {(row["wave_id"], row["participant_id"]): row for row in rows}


def _timeline(
    dyad: Dyad,
    waves: list[Wave],
    responses: list[tuple],
    first_answers: dict[tuple[int, str], dt.datetime | None],
    invitations: dict[tuple[int, int], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Per wave, newest first, each partner's way through it: invited, reminded, link
    opened, first answer saved, submitted (times only: never an answer)."""
    submitted = {(w, role): at for w, role, status, at in responses
                 if status == Response.Status.SUBMITTED}  # fmt: skip
    people = ((Role.MENTOR, dyad.mentor_id), (Role.PROTEGE, dyad.protege_id))
    return [
        {
            "wave": wave,
            "partners": [
                {
                    "role": role.label,
                    "invitation": invitations.get((wave.pk, person)) or {},
                    "first_answer": first_answers.get((wave.pk, role.value)),
                    "submitted": submitted.get((wave.pk, role.value)),
                }
                for role, person in people
            ],
        }
        for wave in reversed(waves)
    ]


def _profile_wave(waves: list[Wave], results: Results, number: int | None) -> Wave | None:
    """The wave asked for if it has subscale scores, else the latest that has them."""
    scored = [w for w in waves if w.pk in results and _has_subscales(results[w.pk])]
    asked = [w for w in scored if w.number == number]
    return asked[0] if asked else (scored[-1] if scored else None)


def _has_subscales(result: DyadWaveResult) -> bool:
    sides = (result.subscales or {}).values()
    return any(value is not None for side in sides for value in (side or {}).values())


def _scores_frame(waves: list[Wave], results: Results) -> pd.DataFrame:
    """One row per wave: ``wave, label, state, position, flags`` and every battery ×
    side score (``rel_mentor`` … ``kram_dyad``), as ``charts.trajectory_figure`` reads."""
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
                **{name: getattr(result, name) if result else None for name in SCORES},
            }
        )
    columns = ["wave", "label", "state", "position", "flags", *SCORES]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in ["position", *SCORES]})


def _profile(wave: Wave | None, results: Results) -> pd.DataFrame:
    """``subscale, title, mentor, protege``: each partner's REL subscales at ``wave``."""
    sides = (results[wave.pk].subscales if wave else {}) or {}
    mentor, protege = sides.get("mentor") or {}, sides.get("protege") or {}
    rows = [(code, title, mentor.get(code), protege.get(code)) for code, title in _rel_titles(wave)]
    profile = pd.DataFrame(rows, columns=["subscale", "title", "mentor", "protege"])
    return profile.astype({"mentor": float, "protege": float})


def _rel_titles(wave: Wave | None) -> list[tuple[str, str]]:
    if wave is None:
        return []
    rel = Subscale.objects.filter(battery__instrument_id=wave.instrument_id, battery__code="REL")
    language = get_language()  # a title the instrument lacks in it stays in its first language
    found = rel.order_by("order").only("code", "title", "translations")
    return [(subscale.code, subscale.title_in(language)) for subscale in found]


def _wave_rows(
    dyad: Dyad,
    waves: list[Wave],
    results: Results,
    responses: list[tuple],
    invitations: dict[tuple[int, int], dict[str, Any]],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """Per wave, newest first: state, change, flags and each partner's response status."""
    status = {(wave_id, role): (s, at) for wave_id, role, s, at in responses}
    people = {"mentor": dyad.mentor_id, "protege": dyad.protege_id}
    rows = []
    for wave in reversed(waves):
        result = results.get(wave.pk)
        state = result.state if result else "unplaced"
        row = {
            "wave": wave,
            "is_open": wave.closes_at > now,
            "state": state,
            "state_label": presenters.STATE_LABELS[state],
            "change": result.change if result else None,
            "transition": result.transition if result else "",
            "transition_label": presenters.TRANSITION_LABELS.get(result.transition, "")
            if result
            else "",
            "reliable": bool(result and result.transition_reliable),
            "flags": presenters.flag_labels(result.flags) if result else [],
        }
        for role, person in people.items():
            row[role] = _response_status(status.get((wave.pk, role)))
            row[f"{role}_invitation"] = invitations.get((wave.pk, person))
        rows.append(row)
    return rows


def _response_status(found: tuple | None) -> dict[str, Any]:
    if found is None:
        return {"code": "not_started", "label": _("Not started"), "at": None}
    if found[0] == Response.Status.SUBMITTED:
        return {"code": "submitted", "label": _("Submitted"), "at": found[1]}
    return {"code": "draft", "label": _("In progress"), "at": None}


def _remindable(
    dyad: Dyad, waves: list[Wave], responses: list[tuple], now: dt.datetime
) -> list[dict[str, Any]]:
    """The partners of an active dyad who have not submitted in a wave open now: ``wave,
    role, person`` and ``name``, the name the program gave them, else their research code."""
    done = {(w, role) for w, role, status, _at in responses if status == Response.Status.SUBMITTED}
    people = {
        "mentor": (dyad.mentor, dyad.mentor_name or dyad.mentor.research_code),
        "protege": (dyad.protege, dyad.protege_name or dyad.protege.research_code),
    }
    return [
        {"wave": wave, "role": role, "person": person, "name": name}
        for wave in waves
        if dyad.is_active and wave.closes_at > now
        for role, (person, name) in people.items()
        if (wave.pk, role) not in done
    ]
