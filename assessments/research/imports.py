"""Loading a checked ``long`` file: all rows or none, never overwriting stored answers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction

from relationships.codes import fresh_codes
from relationships.models import Cohort, Dyad, Participant, Program

from ..models import Answer, Instrument, Item, Response, Wave
from ..services import results_recompute
from .longfile import Row, read_long
from .selectors import instrument_languages, item_catalogue

CODES_PER_QUERY = 5000


def responses_import(*, data: bytes) -> int:
    """Load every answer of the file, then score the touched cohorts; returns answers added.

    Raises ``ValidationError`` listing every problem by line; nothing is written then. A
    file with a header and no answer is refused too: it is a mistake, not a load.
    """
    rows, problems = read_long(data, item_catalogue(), instrument_languages())
    if problems:
        raise ValidationError(problems)
    if not rows:
        raise ValidationError(["line 2: the file holds no answers, only the header"])
    with transaction.atomic():
        added, cohorts = _load(rows)
    for cohort in cohorts:
        results_recompute(cohort=cohort)
    return added


def _load(rows: list[Row]) -> tuple[int, list[Cohort]]:
    """Create what the rows need and their answers, with a fixed handful of queries per
    cohort and wave rather than several per response (a 1.15 M-answer file went from
    about 85,000 queries to a few dozen)."""
    by_response: dict[tuple, list[Row]] = defaultdict(list)
    for row in rows:
        by_response[row.response_key].append(row)
    cohorts, waves = {}, {}
    for key, group in by_response.items():
        if key[:2] not in cohorts:
            cohorts[key[:2]] = _cohort(group[0])
        if key[:3] not in waves:
            waves[key[:3]] = _wave(cohorts[key[:2]], group[0], rows)
    problems: list[str] = []
    for key, group in by_response.items():
        first, instrument = group[0], waves[key[:3]].instrument
        if (instrument.code, instrument.version) != (first.instrument, first.version):
            problems.append(f"line {first.line}: wave {first.wave} uses {instrument.label}")
    if problems:
        raise ValidationError(problems)
    people = _participants({group[0].respondent for group in by_response.values()})
    dyads = _dyads(by_response, cohorts, people, problems)
    answers = _answers(by_response, waves, dyads, people, problems)
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
        opens_at=min(moments) - dt.timedelta(days=1),
        closes_at=max(moments) + dt.timedelta(seconds=1),
        instrument=Instrument.objects.get(code=row.instrument, version=row.version),
    )


def _by_code(queryset, codes: list[str]) -> dict:
    found = {}
    for start in range(0, len(codes), CODES_PER_QUERY):
        for obj in queryset.filter(research_code__in=codes[start : start + CODES_PER_QUERY]):
            found[obj.research_code] = obj
    return found


def _participants(codes: set[str]) -> dict[str, Participant]:
    """Participants by research code, creating (pseudonymous, without an account) the
    ones not stored yet."""
    people = _by_code(Participant.objects.all(), sorted(codes))
    missing = [Participant(research_code=code) for code in sorted(codes - set(people))]
    Participant.objects.bulk_create(missing, batch_size=2000)
    return {**people, **_by_code(Participant.objects.all(), [p.research_code for p in missing])}


def _dyads(by_response, cohorts, people, problems: list[str]) -> dict[tuple, Dyad]:
    """Dyads by (program, cohort, code): stored ones checked against the file, new ones
    created, with a placeholder partner for a partner who never answered."""
    partners, first_line = _partners(by_response)
    _check_one_cohort(partners, first_line, problems)
    if problems:
        return {}
    stored = _by_code(
        Dyad.objects.select_related("mentor", "protege"), sorted({k[2] for k in partners})
    )
    dyads, new = {}, []
    for dyad_key, codes in partners.items():
        cohort, found = cohorts[dyad_key[:2]], stored.get(dyad_key[2])
        if found is None:
            new.append((dyad_key, cohort, codes))
        elif found.cohort_id != cohort.pk or any(
            getattr(found, role).research_code != code for role, code in codes.items()
        ):
            problems.append(
                f"line {first_line[dyad_key]}: dyad {dyad_key[2]} is stored with other "
                "partners or in another cohort"
            )
        else:
            dyads[dyad_key] = found
    return {**dyads, **_dyads_create(new, people)}


def _partners(by_response) -> tuple[dict[tuple, dict[str, str]], dict[tuple, int]]:
    """Role -> respondent code per (program, cohort, dyad code), and each dyad's first line."""
    partners: dict[tuple, dict[str, str]] = defaultdict(dict)
    first_line: dict[tuple, int] = {}
    for key, group in by_response.items():
        dyad_key = (*key[:2], key[3])
        partners[dyad_key][key[4]] = group[0].respondent
        first_line.setdefault(dyad_key, group[0].line)
    return partners, first_line


def _check_one_cohort(partners, first_line, problems: list[str]) -> None:
    cohorts_of = defaultdict(set)
    for dyad_key in partners:
        cohorts_of[dyad_key[2]].add(dyad_key[:2])
    for dyad_key in partners:
        if len(cohorts_of[dyad_key[2]]) > 1:
            problems.append(
                f"line {first_line[dyad_key]}: dyad {dyad_key[2]} appears in more than one cohort"
            )


def _dyads_create(new: list[tuple], people) -> dict[tuple, Dyad]:
    silent = sum(2 - len(codes) for _, _, codes in new)
    placeholders = [Participant(research_code=c) for c in fresh_codes(Participant, "P", silent)]
    Participant.objects.bulk_create(placeholders, batch_size=2000)
    spare = iter(placeholders)
    created = [
        Dyad(
            cohort=cohort,
            research_code=dyad_key[2],
            mentor=people[codes["mentor"]] if "mentor" in codes else next(spare),
            protege=people[codes["protege"]] if "protege" in codes else next(spare),
        )
        for dyad_key, cohort, codes in new
    ]
    Dyad.objects.bulk_create(created, batch_size=2000)
    return {dyad_key: dyad for (dyad_key, _, _), dyad in zip(new, created, strict=True)}


def _answers(by_response, waves, dyads, people, problems: list[str]) -> list[Answer]:
    """Answers of the new responses; a response already stored must match the file."""
    existing, stored = _stored(waves, dyads)
    new: list[tuple[Response, list[Row]]] = []
    for key, group in by_response.items():
        first, dyad = group[0], dyads.get((*key[:2], key[3]))
        if dyad is None:
            continue
        wave = waves[key[:3]]
        language = first.language or wave.instrument.default_language
        found = existing.get((wave.pk, dyad.pk, first.role))
        if found is not None:
            same = stored[found.pk] == {r.item: r.value for r in group}
            if not (same and found.is_submitted and found.language == language):
                problems.append(
                    f"line {first.line}: dyad {first.dyad} already has other "
                    f"{first.role} answers for wave {first.wave}; nothing is overwritten"
                )
            continue
        response = Response(
            wave=wave, dyad=dyad, respondent=people[first.respondent], role=first.role,
            status="submitted", started_at=first.submitted_at, submitted_at=first.submitted_at,
            language=language,
        )  # fmt: skip
        new.append((response, group))
    if problems:
        return []
    Response.objects.bulk_create([response for response, _ in new], batch_size=2000)
    item_ids = _item_ids(waves)
    return [
        Answer(response=response, item_id=item_ids[response.wave.instrument_id][r.item],
               value=r.value)
        for response, group in new
        for r in group
    ]  # fmt: skip


def _stored(waves, dyads) -> tuple[dict[tuple, Response], dict[int, dict[str, int | None]]]:
    """Stored responses of the touched dyads and waves by (wave, dyad, role), and their
    answers by response and item code."""
    existing = {
        (r.wave_id, r.dyad_id, r.role): r
        for r in Response.objects.filter(
            wave_id__in=[w.pk for w in waves.values()], dyad_id__in=[d.pk for d in dyads.values()]
        )
    }
    stored: dict[int, dict[str, int | None]] = defaultdict(dict)
    for response_id, code, value in Answer.objects.filter(
        response__in=[r.pk for r in existing.values()]
    ).values_list("response_id", "item__code", "value"):
        stored[response_id][code] = value
    return existing, stored


def _item_ids(waves) -> dict[int, dict[str, int]]:
    """Item ids by instrument and item code, for the instruments of ``waves``."""
    return {
        instrument_id: dict(
            Item.objects.filter(subscale__battery__instrument_id=instrument_id).values_list(
                "code", "pk"
            )
        )
        for instrument_id in {w.instrument_id for w in waves.values()}
    }
