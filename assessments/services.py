"""Writes of the assessments app. Each service is atomic and validates before saving."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from relationships.models import Cohort

from . import selectors
from .instruments import InvalidDefinition, Problem, validate_definition
from .measurement import pipeline
from .models import Battery, Instrument, Item, Subscale
from .results import result_records, results_upsert


@transaction.atomic
def instrument_load(*, definition: dict[str, Any]) -> tuple[Instrument, bool]:
    """Load a validated definition; return the instrument and whether it was created.

    Loading the same code and version again with identical content changes nothing;
    with different content it is refused, because a published version never changes.
    Raises ``InvalidDefinition`` listing every problem; nothing is written then.
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
        raise InvalidDefinition(
            [
                Problem(
                    "version",
                    f"{existing.label} is already loaded with other content; "
                    "give the changed definition a new version number",
                )
            ]
        )
    instrument = Instrument.objects.create(
        code=definition["code"],
        version=definition["version"],
        title=definition["title"],
        description=definition.get("description", ""),
        definition=definition,
    )
    _create_batteries(instrument, definition["batteries"])
    return instrument, True


def _create_batteries(instrument: Instrument, batteries: list[dict[str, Any]]) -> None:
    items: list[Item] = []
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
            order=order,
        )
        for sub_order, sub_spec in enumerate(spec["subscales"]):
            subscale = Subscale.objects.create(
                battery=battery,
                code=sub_spec["code"],
                title=sub_spec["title"],
                description=sub_spec.get("description", ""),
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
                    order=item_order,
                )
                for item_order, item in enumerate(sub_spec["items"])
            ]
    Item.objects.bulk_create(items)


def results_recompute(
    *,
    cohort: Cohort,
    dyad_ids: list[int] | None = None,
    from_wave: int = 1,
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Recompute and store the DyadWaveResult rows of a cohort (or of some of its dyads).

    Reads answers in one query, scores them through ``measurement.pipeline`` with the
    program's constants and writes every result of wave ``from_wave`` onwards in one
    statement. Answers are never touched. Returns the number of results written.
    ``progress(stage, n)`` reports work done.
    """
    report = progress or (lambda stage, n: None)
    constants = cohort.program.constants
    pairs = selectors.expected_pairs(cohort=cohort, dyad_ids=dyad_ids)
    if pairs.empty:
        return 0
    frames = selectors.scoring_frames(
        cohort=cohort, dyad_ids=dyad_ids, progress=lambda n: report("answers", n)
    )
    results = pipeline.score(*frames, pairs=pairs[["dyad", "wave"]], constants=constants).dyads
    results = results[results.index.get_level_values("wave") >= from_wave]
    wave_ids = dict(zip(pairs["wave"], pairs["wave_id"], strict=False))
    records = result_records(results, wave_ids=wave_ids, constants=constants.as_dict())
    results_upsert(records)
    report("results", len(records))
    return len(records)
