"""Coordinator notices: an email per new alert (a dyad placed dysfunctional or
reporting strain) and a weekly digest, to each coordinator as they chose, in that
coordinator's language (``coordinator_language``).

Both only queue rows in the delivery log (unique per recipient, kind, topic and
sequence); the scheduler's run calls them and the worker sends.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db.models import Q

from assessments.models import AlertFollowUp, DyadWaveResult
from relationships.models import CoordinatorMembership, Program, User, language_codes

from .digest import digest_waves
from .models import Delivery, DeliverySchedule, Kind
from .models import NotificationPreference as Preference

NOTIFIED_REASONS = ("dysfunctional", "strain_reported")


def coordinator_language(*, user: User, program: Program) -> str:
    """The language of a notice to ``user`` about ``program``: the language they chose
    in the interface when they have one on record (a coordinator who also takes part in
    a dyad), else the program's default language."""
    participant = getattr(user, "participant", None)
    chosen = participant.language if participant is not None else ""
    return chosen if chosen in language_codes() else program.default_language


def _listeners(programs: set[int], *, wanted: set[str]) -> dict[int, list[int]]:
    """Active coordinators with an email address per program whose preference is one
    of ``wanted`` (no preference: immediate)."""
    members = CoordinatorMembership.objects.filter(
        program_id__in=programs, user__is_active=True
    ).exclude(user__email="")
    choices = dict(
        ((u, p), c)
        for u, p, c in Preference.objects.filter(program_id__in=programs).values_list(
            "user_id", "program_id", "alerts"
        )
    )
    found: dict[int, list[int]] = {}
    for user, program in members.values_list("user_id", "program_id"):
        if choices.get((user, program), Preference.Alerts.IMMEDIATE) in wanted:
            found.setdefault(program, []).append(user)
    return found


def _new_notices(rows: list[Delivery], kind: str) -> list[Delivery]:
    """Rows whose key is not in the log yet (the insert ignores the rest anyway)."""
    known = set(
        Delivery.objects.filter(
            kind=kind,
            recipient_id__in={r.recipient_id for r in rows},
            topic__in={r.topic for r in rows},
        ).values_list("recipient_id", "topic", "sequence")
    )
    return [r for r in rows if (r.recipient_id, r.topic, r.sequence) not in known]


def alert_notices_enqueue(*, now: dt.datetime) -> int:
    """Queue an email to each coordinator (preference immediate) for every dyad newly
    placed dysfunctional or reporting strain in a recent wave, once per dyad, wave and
    reason; returns how many were queued."""
    window = now - dt.timedelta(days=settings.DELIVERY_ALERT_WINDOW_DAYS)
    results = DyadWaveResult.objects.filter(
        Q(state=DyadWaveResult.State.DYSFUNCTIONAL) | Q(strain_reported=True),
        wave__opens_at__lte=now,
        wave__closes_at__gt=window,
        computed_at__gte=window,
        dyad__is_active=True,
    ).values_list("dyad_id", "wave_id", "state", "strain_reported", "dyad__cohort__program_id")
    results = list(results)
    if not results:
        return 0
    listeners = _listeners({r[4] for r in results}, wanted={Preference.Alerts.IMMEDIATE})
    followed = set(
        AlertFollowUp.objects.filter(dyad_id__in={r[0] for r in results}).values_list(
            "dyad_id", "wave_id", "reason"
        )
    )
    rows = [
        Delivery(
            kind=Kind.ALERT,
            recipient_id=user,
            program_id=program,
            dyad_id=dyad,
            wave_id=wave,
            topic=f"{dyad}/{wave}/{reason}",
            created_at=now,
            next_attempt_at=now,
        )
        for dyad, wave, state, strain, program in results
        for reason, raised in zip(NOTIFIED_REASONS, (state == "dysfunctional", strain), strict=True)
        if raised and (dyad, wave, reason) not in followed
        for user in listeners.get(program, [])
    ]
    new = _new_notices(rows, Kind.ALERT) if rows else []
    Delivery.objects.enqueue(new)
    return len(new)


def _digest_due(
    program: Program, schedule: DeliverySchedule | None, now: dt.datetime
) -> int | None:
    """This week's digest number (ISO year × 100 + week) once it is due, else None:
    from Monday's first sending hour in the program's time zone."""
    zone = zoneinfo.ZoneInfo(schedule.time_zone if schedule else settings.TIME_ZONE)
    local = now.astimezone(zone)
    start = schedule.send_from_hour if schedule else 9
    if local.weekday() == 0 and local.hour < start:
        return None
    year, week, _ = local.isocalendar()
    return year * 100 + week


def digests_enqueue(*, now: dt.datetime) -> int:
    """Queue this week's digest to each coordinator who wants it, for programs with a
    wave open or closed in the last week; returns how many were queued."""
    programs = {
        p.pk: p
        for p in Program.objects.filter(
            cohorts__waves__opens_at__lte=now,
            cohorts__waves__closes_at__gt=now - dt.timedelta(days=7),
        ).distinct()
    }
    if not programs:
        return 0
    schedules = {
        s.program_id: s
        for s in DeliverySchedule.objects.filter(program__in=programs.values(), wave__isnull=True)
    }
    wanted = {Preference.Alerts.IMMEDIATE, Preference.Alerts.DIGEST}
    listeners = _listeners(set(programs), wanted=wanted)
    rows = []
    for pk, program in programs.items():
        week = _digest_due(program, schedules.get(pk), now)
        if week is None or not digest_waves(program=program, now=now):
            continue
        rows += [
            Delivery(
                kind=Kind.DIGEST,
                recipient_id=user,
                program_id=pk,
                topic=f"program/{pk}",
                sequence=week,
                created_at=now,
                next_attempt_at=now,
            )
            for user in listeners.get(pk, [])
        ]
    new = _new_notices(rows, Kind.DIGEST) if rows else []
    Delivery.objects.enqueue(new)
    return len(new)
