"""Loading a checked ``long`` file: all rows or none, never overwriting stored answers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction

from relationships.models import Cohort, Dyad, Participant, Program

from .imports import Catalogue, ItemSpec, Row, read_long
from .models import Answer, Instrument, Item, Response, Wave
from .services import results_recompute


def item_catalogue() -> Catalogue:
    catalogue: Catalogue = defaultdict(dict)
    items = Item.objects.select_related("subscale__battery__instrument")
    for item in items:
        battery = item.subscale.battery
        key = (battery.instrument.code, battery.instrument.version)
        catalogue[key][item.code] = ItemSpec(
            battery.code, item.subscale.code, item.reverse_keyed, item.allow_na,
            battery.scale_min, battery.scale_max,
        )  # fmt: skip
    return dict(catalogue)


def responses_import(*, data: bytes) -> int:
    """Load every answer of the file, then score the touched cohorts; returns answers added.

    Raises ``ValidationError`` listing every problem by line; nothing is written then.
    """
    rows, problems = read_long(data, item_catalogue())
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        added, cohorts = _load(rows)
    for cohort in cohorts:
        results_recompute(cohort=cohort)
    return added


def _load(rows: list[Row]) -> tuple[int, list[Cohort]]:
    by_response: dict[tuple, list[Row]] = defaultdict(list)
    for row in rows:
        by_response[row.response_key].append(row)
    cohorts, waves, dyads, people, item_ids = {}, {}, {}, {}, {}
    problems, answers = [], []
    for key, group in by_response.items():
        first = group[0]
        cohort = cohorts.get(key[:2]) or cohorts.setdefault(key[:2], _cohort(first))
        wave = waves.get(key[:3]) or waves.setdefault(key[:3], _wave(cohort, first, rows))
        if wave.instrument.code != first.instrument or wave.instrument.version != first.version:
            problems.append(f"line {first.line}: wave {first.wave} uses {wave.instrument.label}")
            continue
        person = people.get(first.respondent) or people.setdefault(
            first.respondent, Participant.objects.get_or_create(research_code=first.respondent)[0]
        )
        dyad = _dyad(cohort, first, by_response, people, dyads, problems)
        if dyad is None:
            continue
        if wave.instrument_id not in item_ids:
            items = Item.objects.filter(subscale__battery__instrument_id=wave.instrument_id)
            item_ids[wave.instrument_id] = dict(items.values_list("code", "pk"))
        answers += _response_answers(
            wave, dyad, person, group, item_ids[wave.instrument_id], problems
        )
    if problems:
        raise ValidationError(problems)
    Answer.objects.bulk_create(answers, batch_size=5000)
    return len(answers), list(cohorts.values())


def _cohort(row: Row) -> Cohort:
    program, _ = Program.objects.get_or_create(slug=row.program, defaults={"name": row.program})
    cohort, _ = Cohort.objects.get_or_create(
        program=program, slug=row.cohort, defaults={"name": row.cohort}
    )
    return cohort


def _wave(cohort: Cohort, row: Row, rows: list[Row]) -> Wave:
    found = Wave.objects.select_related("instrument").filter(cohort=cohort, number=row.wave)
    if found:
        return found[0]
    moments = [
        r.submitted_at for r in rows if (r.program, r.cohort, r.wave) == row.response_key[:3]
    ]
    return Wave.objects.create(
        cohort=cohort,
        number=row.wave,
        label=f"Wave {row.wave}",
        opens_at=min(moments) - dt.timedelta(days=1),
        closes_at=max(moments) + dt.timedelta(seconds=1),
        instrument=Instrument.objects.get(code=row.instrument, version=row.version),
    )


def _dyad(cohort, row: Row, by_response, people, dyads, problems) -> Dyad | None:
    if row.dyad in dyads:
        return dyads[row.dyad]
    codes = {
        key[4]: group[0].respondent
        for key, group in by_response.items()
        if key[:2] == (row.program, row.cohort) and key[3] == row.dyad
    }
    found = Dyad.objects.filter(research_code=row.dyad).select_related("mentor", "protege").first()
    if found is None:
        mentor = _person(codes.get("mentor"), people)
        protege = _person(codes.get("protege"), people)
        found = Dyad.objects.create(
            cohort=cohort, mentor=mentor, protege=protege, research_code=row.dyad
        )
    elif found.cohort_id != cohort.pk or any(
        getattr(found, role).research_code != code for role, code in codes.items()
    ):
        problems.append(
            f"line {row.line}: dyad {row.dyad} is stored with other partners or in another cohort"
        )
        return None
    dyads[row.dyad] = found
    return found


def _person(code: str | None, people) -> Participant:
    """The partner with this code, or a placeholder for a partner who never answered."""
    if code is None:
        return Participant.objects.create()
    return people.get(code) or people.setdefault(
        code, Participant.objects.get_or_create(research_code=code)[0]
    )


def _response_answers(wave, dyad, person, group: list[Row], items, problems) -> list[Answer]:
    first = group[0]
    existing = Response.objects.filter(wave=wave, dyad=dyad, role=first.role).first()
    if existing is not None:
        stored = dict(existing.answers.values_list("item__code", "value"))
        if stored != {r.item: r.value for r in group} or not existing.is_submitted:
            problems.append(
                f"line {first.line}: dyad {first.dyad} already has other "
                f"{first.role} answers for wave {first.wave}; nothing is overwritten"
            )
        return []
    response = Response.objects.create(
        wave=wave, dyad=dyad, respondent=person, role=first.role, status="submitted",
        started_at=first.submitted_at, submitted_at=first.submitted_at,
    )  # fmt: skip
    return [Answer(response=response, item_id=items[r.item], value=r.value) for r in group]
