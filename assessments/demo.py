"""Realistic demo answers: each dyad follows a trajectory archetype over the waves.

Latent levels per battery move linearly from a start to an end over the waves; each
answer is the latent level plus a stable per-person subscale offset and item noise,
rounded and clipped to the scale, then reverse-keyed where the item is. The generator
is pure (numpy only) and seeded per dyad, so adding dyads never changes earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .measurement.rules import BATTERIES

Levels = tuple[float, float, float, float, float]  # REL, CAR, PSY, STR, OVR
BATTERY_INDEX = {code: i for i, code in enumerate(BATTERIES)}
NA_RATE = {"REL": 0.02, "CAR": 0.05, "PSY": 0.02, "STR": 0.0, "OVR": 0.0}


@dataclass(frozen=True)
class Side:
    start: Levels
    end: Levels

    def at(self, t: float) -> np.ndarray:
        return np.array(self.start) + (np.array(self.end) - np.array(self.start)) * t


@dataclass(frozen=True)
class Archetype:
    name: str
    mentor: Side
    protege: Side | None  # None: the protégé never answers


def _same(levels: Levels) -> Side:
    return Side(levels, levels)


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "rising",
        Side((4.7, 4.8, 4.9, 1.3, 5.0), (6.4, 5.9, 6.3, 1.1, 6.5)),
        Side((4.5, 4.6, 4.7, 1.4, 4.8), (6.3, 6.1, 6.2, 1.1, 6.6)),
    ),
    Archetype(
        "stable relational", _same((6.5, 5.8, 6.3, 1.1, 6.6)), _same((6.4, 6.0, 6.2, 1.1, 6.6))
    ),
    Archetype("traditional", _same((5.0, 5.7, 5.3, 1.4, 5.4)), _same((4.9, 5.8, 5.2, 1.4, 5.5))),
    Archetype(
        "backsliding",
        Side((6.1, 5.6, 6.0, 1.2, 6.3), (4.5, 4.8, 4.6, 2.0, 4.6)),
        Side((6.0, 5.8, 5.9, 1.2, 6.2), (3.6, 4.2, 3.7, 3.4, 3.5)),
    ),
    Archetype(
        "dysfunctional with strain",
        _same((4.4, 4.6, 4.5, 2.1, 4.3)),
        _same((3.4, 3.8, 3.5, 3.7, 3.0)),
    ),
    Archetype(
        "partners who disagree", _same((6.3, 6.0, 6.2, 1.1, 6.4)), _same((4.2, 4.7, 4.4, 1.6, 4.4))
    ),
    Archetype("silent partner", _same((5.2, 5.3, 5.2, 1.3, 5.4)), None),
    Archetype(
        "marginal traditional", _same((4.9, 3.9, 4.3, 1.5, 4.6)), _same((4.8, 4.0, 4.2, 1.5, 4.5))
    ),
)


@dataclass(frozen=True)
class ItemTable:
    """The instrument's items as parallel arrays, in survey order."""

    codes: list[str]
    subscales: list[str]
    battery: np.ndarray  # index into the levels vector
    subscale: np.ndarray  # index into a person's offsets
    reverse_keyed: np.ndarray
    na_rate: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def build(cls, rows: list[dict]) -> ItemTable:
        subscales = list(dict.fromkeys(row["subscale"] for row in rows))
        return cls(
            codes=[row["code"] for row in rows],
            subscales=subscales,
            battery=np.array([BATTERY_INDEX[row["battery"]] for row in rows]),
            subscale=np.array([subscales.index(row["subscale"]) for row in rows]),
            reverse_keyed=np.array([row["reverse_keyed"] for row in rows], dtype=bool),
            na_rate=np.array([NA_RATE[row["battery"]] if row["allow_na"] else 0.0 for row in rows]),
            low=np.array([row["scale_min"] for row in rows]),
            high=np.array([row["scale_max"] for row in rows]),
        )


def archetype_for(index: int) -> Archetype:
    return ARCHETYPES[index % len(ARCHETYPES)]


def person_offsets(rng: np.random.Generator, table: ItemTable) -> np.ndarray:
    """A person's stable tilt per subscale: nobody rates every function alike.

    The strain screen gets none: its level is the archetype's own.
    """
    offsets = rng.normal(0.0, 0.3, len(table.subscales))
    offsets[[i for i, code in enumerate(table.subscales) if code == "STR"]] = 0.0
    return offsets


def answer_values(
    rng: np.random.Generator, table: ItemTable, levels: np.ndarray, offsets: np.ndarray
) -> list[int | None]:
    """One raw answer per item of the table (None = "not applicable")."""
    latent = levels[table.battery] + offsets[table.subscale]
    noisy = np.rint(latent + rng.normal(0.0, 0.55, len(latent)))
    values = np.clip(noisy, table.low, table.high).astype(int)
    values = np.where(table.reverse_keyed, table.low + table.high - values, values)
    missing = rng.random(len(values)) < table.na_rate
    return [None if gone else int(value) for value, gone in zip(values, missing, strict=True)]
