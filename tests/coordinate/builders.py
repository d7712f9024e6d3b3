"""Rows the coordinator tests build: waves, dyads and stored results, without scoring."""

import datetime as dt
import itertools
from types import SimpleNamespace

from django.utils import timezone

from assessments.models import DyadWaveResult, Response, Wave
from assessments.results import aggregates
from relationships.models import Dyad, Participant
from tests import factories

STATE_CYCLE = ("relational", "traditional", "dysfunctional", "unplaced")


def rel_instrument():
    """An instrument with two REL subscales (enough for the profile's titles)."""
    battery = factories.BatteryFactory(code="REL")
    factories.SubscaleFactory(battery=battery, code="REL-LG", title="Learning and growth", order=0)
    factories.SubscaleFactory(battery=battery, code="REL-CN", title="Communal norms", order=1)
    return battery.instrument


def add_waves(cohort, count: int, *, open_last: bool = False) -> list[Wave]:
    """Waves 1..count of the cohort (existing ones kept), 60 days apart, all closed,
    except the last when ``open_last`` (it then closes in two days)."""
    first = Wave.objects.filter(cohort=cohort).first()
    instrument = first.instrument if first else rel_instrument()
    start = timezone.now() - dt.timedelta(days=60 * count + 30)
    existing = set(cohort.waves.values_list("number", flat=True))
    waves = [
        Wave(
            cohort=cohort,
            number=n,
            label=f"Wave {n}",
            opens_at=start + dt.timedelta(days=60 * (n - 1)),
            closes_at=start + dt.timedelta(days=60 * (n - 1) + 30),
            instrument=instrument,
        )
        for n in range(1, count + 1)
        if n not in existing
    ]
    Wave.objects.bulk_create(waves)
    if open_last:
        Wave.objects.filter(cohort=cohort, number=count).update(
            opens_at=timezone.now() - dt.timedelta(days=5),
            closes_at=timezone.now() + dt.timedelta(days=2),
        )
    return list(cohort.waves.order_by("number"))


def add_dyads(cohort, count: int) -> list[Dyad]:
    """``count`` more dyads with participants that exist only as research codes."""
    people = Participant.objects.bulk_create(
        [Participant(name=f"Person {i}") for i in range(2 * count)]
    )
    return Dyad.objects.bulk_create(
        [Dyad(cohort=cohort, mentor=people[2 * i], protege=people[2 * i + 1]) for i in range(count)]
    )


def result(dyad, wave, state: str, **fields) -> DyadWaveResult:
    """A stored result as ``results_recompute`` would write it (both partners submitted)."""
    placed = state != "unplaced"
    rel = {"relational": 6.0, "traditional": 5.0, "dysfunctional": 3.5}.get(state)
    values = {
        "mentor_submitted": True,
        "protege_submitted": placed,
        "rel_mentor": rel,
        "rel_protege": rel,
        "rel_dyad": rel if placed else None,
        "psy_mentor": rel,
        "psy_protege": rel,
        "position": 100 * (rel - 1) / 6 if placed else None,
        "transition": "first" if placed else "",
        "awaiting_partner": not placed,
        "subscales": {
            "mentor": {"REL-LG": rel, "REL-CN": rel},
            "protege": {"REL-LG": rel, "REL-CN": rel},
        },
        **fields,
    }
    return DyadWaveResult(dyad=dyad, wave=wave, state=state, rule_version="continuum-v1", **values)


def fill_results(dyads, waves) -> None:
    """A result for every dyad × wave (states cycling) plus the submitted responses."""
    existing = set(DyadWaveResult.objects.values_list("dyad_id", "wave_id"))
    pairs = [(d, w) for d, w in itertools.product(dyads, waves) if (d.pk, w.pk) not in existing]
    states = [STATE_CYCLE[(d.pk + w.number) % 4] for d, w in pairs]
    DyadWaveResult.objects.bulk_create(
        [
            result(
                d, w, s, reliable_decline=s == "dysfunctional", strain_reported=s == "dysfunctional"
            )
            for (d, w), s in zip(pairs, states, strict=True)
        ]
    )
    Response.objects.bulk_create(
        [
            Response(
                wave=w,
                dyad=d,
                respondent=person,
                role=role,
                status="submitted",
                submitted_at=w.opens_at + dt.timedelta(days=3),
            )
            for (d, w), s in zip(pairs, states, strict=True)
            for role, person in (("mentor", d.mentor), ("protege", d.protege))
            if s != "unplaced" or role == "mentor"
        ]
    )


def grow(cast, *, dyads: int, waves: int) -> SimpleNamespace:
    """Bring the cast's cohort to ``dyads`` dyads and ``waves`` waves, with results and
    the cohort's aggregates rebuilt, as ``results_recompute`` leaves them."""
    have = cast.cohort.dyads.count()
    if dyads > have:
        add_dyads(cast.cohort, dyads - have)
    all_waves = add_waves(cast.cohort, waves)
    fill_results(list(cast.cohort.dyads.all()), all_waves)
    aggregates.rebuild(cohort=cast.cohort)
    return SimpleNamespace(waves=all_waves, dyads=list(cast.cohort.dyads.all()))


def cohort_url(cast, tail: str = "") -> str:
    return f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/{tail}"


def backsliding_scene(cast, **falling) -> SimpleNamespace:
    """Two closed waves: a backsliding dyad (``falling``: more fields of its second
    result), a steady relational one, a silent partner."""
    waves = add_waves(cast.cohort, 2)
    down, steady, silent = cast.dyad, cast.other_dyad, add_dyads(cast.cohort, 1)[0]
    DyadWaveResult.objects.bulk_create(
        [
            result(down, waves[0], "relational"),
            result(down, waves[1], "dysfunctional", transition="down", transition_reliable=True,
                   change=-2.5, reliable_decline=True, strain_reported=True, **falling),
            result(steady, waves[0], "relational"),
            result(steady, waves[1], "relational", transition="same", change=0.1),
            result(silent, waves[0], "traditional"),
            result(silent, waves[1], "unplaced"),
        ]
    )  # fmt: skip
    return SimpleNamespace(waves=waves, falling=down, steady=steady, silent=silent)
