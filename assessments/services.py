"""Writes of the assessments app. Each service is atomic and validates before saving."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from relationships.models import Cohort

from . import selectors
from .instruments import InvalidDefinition, Problem, validate_definition
from .languages import declared_languages, only_gains_languages, stored_translations
from .measurement import pipeline
from .models import Battery, Instrument, Item, Subscale
from .results import aggregates, result_records, results_upsert


@transaction.atomic
def instrument_load(*, definition: dict[str, Any]) -> tuple[Instrument, bool]:
    """Load a validated definition; return the instrument and whether it was created.

    Loading the same code and version again with identical content changes nothing;
    with different content it is refused, because a published version never changes.
    Raises ``InvalidDefinition`` listing every problem (a declared language lacking a
    text among them); nothing is written then. The first language's texts go into the
    plain fields, the others into each part's ``translations``.

    One change is taken, even once the version has responses: the same definition
    with languages added after its own (and growth strategies where it had none). What
    was asked, in every language it was asked in, stays as it was; the loaded version
    gains the new wording (``_add_languages``).
    """
    problems = validate_definition(definition)
    if problems:
        raise InvalidDefinition(problems)
    existing = Instrument.objects.filter(
        code=definition["code"], version=definition["version"]
    ).first()
    if existing is not None:
        if existing.definition == definition:
            return existing, False
        if only_gains_languages(existing.definition, definition):
            return _add_languages(existing, definition), False
        raise InvalidDefinition(
            [
                Problem(
                    "version",
                    f"{existing.label} is already loaded with other content; "
                    "give the changed definition a new version number",
                )
            ]
        )
    languages = declared_languages(definition)
    instrument = Instrument.objects.create(
        code=definition["code"],
        version=definition["version"],
        title=definition["title"],
        description=definition.get("description", ""),
        definition=definition,
        languages=languages,
        translations=stored_translations(definition, kind="instrument", languages=languages),
    )
    _create_batteries(instrument, definition["batteries"], languages)
    return instrument, True


def _add_languages(instrument: Instrument, definition: dict[str, Any]) -> Instrument:
    """Store the new languages' texts and strategies of an already loaded version.

    Updates go through ``QuerySet.update`` (``bulk_update``), past the parts' lock on
    purpose: ``only_gains_languages`` has checked that no asked wording changes.
    """
    languages = declared_languages(definition)
    instrument.definition, instrument.languages = definition, languages
    instrument.translations = stored_translations(
        definition, kind="instrument", languages=languages
    )
    Instrument.objects.filter(pk=instrument.pk).update(
        definition=definition, languages=languages, translations=instrument.translations
    )
    specs = {"battery": {}, "subscale": {}, "item": {}}
    for battery in definition["batteries"]:
        specs["battery"][battery["code"]] = battery
        for subscale in battery["subscales"]:
            specs["subscale"][subscale["code"]] = subscale
            specs["item"].update({item["code"]: item for item in subscale["items"]})
    parts = {
        "battery": Battery.objects.filter(instrument=instrument),
        "subscale": Subscale.objects.filter(battery__instrument=instrument),
        "item": Item.objects.filter(subscale__battery__instrument=instrument),
    }
    for kind, queryset in parts.items():
        rows = list(queryset)
        for row in rows:
            spec = specs[kind][row.code]
            row.translations = stored_translations(spec, kind=kind, languages=languages)
            strategy = spec.get("strategy", {})
            row.strategy_title = strategy.get("title", "")
            row.strategy_advice = strategy.get("advice", "")
        fields = ["translations"]
        if kind == "subscale":
            fields += ["strategy_title", "strategy_advice"]
        queryset.model.objects.bulk_update(rows, fields)
    return instrument


def _create_batteries(
    instrument: Instrument, batteries: list[dict[str, Any]], languages: list[str]
) -> None:
    items: list[Item] = []

    def texts(spec: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
        return stored_translations(spec, kind=kind, languages=languages)

    for order, spec in enumerate(batteries):
        scale = spec["scale"]
        battery = Battery.objects.create(
            instrument=instrument,
            code=spec["code"],
            title=spec["title"],
            intro_mentor=spec.get("intro_mentor", ""),
            intro_protege=spec.get("intro_protege", ""),
            scale_min=scale["min"],
            scale_max=scale["max"],
            scale_labels=scale["labels"],
            translations=texts(spec, "battery"),
            order=order,
        )
        for sub_order, sub_spec in enumerate(spec["subscales"]):
            subscale = Subscale.objects.create(
                battery=battery,
                code=sub_spec["code"],
                title=sub_spec["title"],
                description=sub_spec.get("description", ""),
                strategy_title=sub_spec.get("strategy", {}).get("title", ""),
                strategy_advice=sub_spec.get("strategy", {}).get("advice", ""),
                translations=texts(sub_spec, "subscale"),
                order=sub_order,
            )
            items += [
                Item(
                    subscale=subscale,
                    code=item["code"],
                    text_mentor=item["mentor"],
                    text_protege=item["protege"],
                    reverse_keyed=item.get("reverse_keyed", False),
                    allow_na=item.get("allow_na", False),
                    translations=texts(item, "item"),
                    order=item_order,
                )
                for item_order, item in enumerate(sub_spec["items"])
            ]
    Item.objects.bulk_create(items)


RECOMPUTE_CHUNK = 1000  # dyads scored at once by a cohort-wide recompute


def results_recompute(
    *,
    cohort: Cohort,
    dyad_ids: list[int] | None = None,
    from_wave: int = 1,
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Recompute and store the DyadWaveResult rows of a cohort (or of some of its dyads).

    Scores the answers through ``measurement.pipeline`` with the program's constants
    and writes every result of wave ``from_wave`` onwards. Answers are never touched.
    Returns the number of results written; ``progress(stage, n)`` reports work done.

    Some dyads (a submit, an erasure): their results are written with the cohort's
    aggregates kept in step (``aggregates.rescored``). The whole cohort: it is scored
    ``RECOMPUTE_CHUNK`` dyads at a time, so memory stays flat however big the cohort,
    and the aggregates are rebuilt at the end.
    """
    report = progress or (lambda stage, n: None)
    if dyad_ids is not None:
        waves = aggregates.cohort_waves(cohort)
        with aggregates.rescored(cohort=cohort, dyad_ids=dyad_ids, waves=waves):
            return _recompute(cohort, dyad_ids, from_wave, report, waves)
    every = list(cohort.dyads.order_by("pk").values_list("pk", flat=True))
    written = sum(
        _recompute(cohort, every[start : start + RECOMPUTE_CHUNK], from_wave, report)
        for start in range(0, len(every), RECOMPUTE_CHUNK)
    )
    aggregates.rebuild(cohort=cohort)
    return written


def _recompute(
    cohort: Cohort,
    dyad_ids: list[int],
    from_wave: int,
    report: Callable[[str, int], None],
    waves: list | None = None,
) -> int:
    """Score ``dyad_ids`` from their answers and store their results from ``from_wave``.

    One dyad (a submit) is scored without frames (``pipeline.score_dyad``, the same
    rows); more go through ``pipeline.score``.
    """
    constants = cohort.program.constants
    found = _one_dyad(cohort, dyad_ids[0], constants, waves) if len(dyad_ids) == 1 else None
    if found is None:
        found = _frames(cohort, dyad_ids, constants, report)
    rows, wave_ids = found
    rows = [row for row in rows if row["wave"] >= from_wave]
    records = result_records(rows, wave_ids=wave_ids, constants=constants.as_dict())
    results_upsert(records)
    report("results", len(records))
    return len(records)


def _one_dyad(cohort: Cohort, dyad_id: int, constants, waves) -> tuple[list, dict] | None:
    now = timezone.now()
    opened = None if waves is None else {w.number: w.id for w in waves if w.opens_at <= now}
    responses, catalogues, waves = selectors.dyad_scoring_facts(
        cohort=cohort, dyad_id=dyad_id, waves=opened
    )
    rows = pipeline.score_dyad(
        dyad=dyad_id, responses=responses, items=catalogues, waves=list(waves), constants=constants
    )
    return None if rows is None else (rows, waves)


def _frames(cohort: Cohort, dyad_ids: list[int], constants, report) -> tuple[list, dict]:
    pairs = selectors.expected_pairs(cohort=cohort, dyad_ids=dyad_ids)
    if pairs.empty:
        return [], {}
    frames = selectors.scoring_frames(
        cohort=cohort, dyad_ids=dyad_ids, progress=lambda n: report("answers", n)
    )
    results = pipeline.score(*frames, pairs=pairs[["dyad", "wave"]], constants=constants).dyads
    wave_ids = dict(zip(pairs["wave"], pairs["wave_id"], strict=False))
    return results.reset_index().to_dict("records"), wave_ids
