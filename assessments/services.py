"""Writes of the assessments app. Each service is atomic and validates before saving."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .instruments import InvalidDefinition, Problem, validate_definition
from .models import Battery, Instrument, Item, Subscale


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
