"""Names and constants of rule ``continuum-v1`` (DESIGN §3, §4): the vocabulary every
other part of the product shares.

This module imports nothing from the project, pandas or Django, so models, pages,
exports and the pure measurement code can all depend on it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

RULE_VERSION = "continuum-v1"
BATTERIES = ("REL", "CAR", "PSY", "STR", "OVR")
SCORE_COLUMNS = (*BATTERIES, "KRAM")
ROLES = ("mentor", "protege")
STATES = ("unplaced", "dysfunctional", "traditional", "relational")
# Comparison order of placed states; "unplaced" has no rank.
STATE_ORDER: dict[str, int] = {"dysfunctional": 0, "traditional": 1, "relational": 2}
FLAGS = (
    "awaiting_partner",
    "borderline",
    "marginal",
    "norms_incongruent",
    "reliable_decline",
    "reliable_improvement",
    "strain_reported",
)
TOLERANCE = 1e-9
# Moved up by one SEM for "better quality" (STR is moved down); subscales by prefix.
HIGHER_IS_BETTER = ("REL", "CAR", "PSY", "KRAM")
LOWER_IS_BETTER = ("STR",)
SHIFTED_SUBSCALE_PREFIXES = ("REL-", "CAR-", "PSY-")
POSITION_MIN, POSITION_SPAN = 1.0, 6.0  # REL's 7-point scale mapped onto 0–100
ALERT_REASONS = (
    "dysfunctional",
    "strain_reported",
    "reliable_decline",
    "downward_transition",
    "norms_incongruent",
    "partner_missing",
)


def gettext_noop(message: str) -> str:
    """Marks ``message`` for the translation catalogues (``make messages`` looks for this
    name) and returns it unchanged: this module cannot import Django, so pages translate
    the text when they show it."""
    return message


ALERT_TEXT: dict[str, str] = {
    "dysfunctional": gettext_noop(
        "The relationship is placed as dysfunctional and needs a conversation soon."
    ),
    "strain_reported": gettext_noop(
        "A partner reported frequent signs of strain in the relationship."
    ),
    "reliable_decline": gettext_noop(
        "Relationship quality dropped by more than measurement error since the last placed wave."
    ),
    "downward_transition": gettext_noop(
        "The relationship moved down the continuum since the last placed wave."
    ),
    "norms_incongruent": gettext_noop(
        "The partners see giving and keeping score in the relationship very differently."
    ),
    "partner_missing": gettext_noop(
        "A partner has not submitted the survey and the wave closes within a few days."
    ),
}
# Frames handed to the measurement functions (see ``scoring.respondent_scores``).
ITEMS_COLUMNS = ["item", "battery", "subscale", "reverse_keyed", "scale_min", "scale_max"]
ANSWERS_COLUMNS = ["response", "dyad", "wave", "role", "item", "value"]
RESPONSES_COLUMNS = ["response", "dyad", "wave", "role"]
# Statistics over fewer people than this are not shown (DESIGN §4.5).
MIN_GROUP = 5
_WHOLE_NUMBER_FIELDS = ("min_answered_floor", "max_missing_subscales", "alert_days_before_close")


@dataclass(frozen=True)
class Constants:
    """Every constant of rule ``continuum-v1`` (DESIGN §4); a program may override any.

    Scores are on the battery's own scale (REL/CAR/PSY/OVR 1–7, STR 1–5); ``sem`` and the
    reliable-change values are in REL points. Raises ``ValueError`` on values out of range.
    """

    min_answered_floor: int = 2
    min_answered_fraction: float = 2 / 3
    max_missing_subscales: int = 1
    aligned_threshold: float = 1.07
    cn_gap_threshold: float = 1.5
    strain_cut: float = 3.0
    dysfunctional_rel: float = 4.0
    dysfunctional_psy: float = 4.0
    relational_rel: float = 5.5
    relational_psy: float = 5.0
    relational_subscale_floor: float = 4.5
    marginal_kram: float = 4.5
    sem: float = 0.39
    reliable_change_dyad: float = 0.76
    reliable_change_respondent: float = 1.07
    alert_days_before_close: int = 3

    def __post_init__(self) -> None:
        values = self.as_dict()
        problems = [name for name, v in values.items() if not _is_number(v) or v < 0]
        problems += [name for name in _WHOLE_NUMBER_FIELDS if not _is_whole(values[name])]
        if _is_number(self.min_answered_fraction) and not 0 < self.min_answered_fraction <= 1:
            problems.append("min_answered_fraction")
        if problems:
            raise ValueError(
                "placement constants out of range: " + ", ".join(sorted(set(problems)))
            )

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None = None) -> Constants:
        """Defaults with ``overrides`` applied (e.g. a program's ``{"strain_cut": 2.5}``).

        Raises ``ValueError`` naming unknown keys, non-numeric or out-of-range values.
        """
        if overrides is None:
            return cls()
        if not isinstance(overrides, Mapping):
            raise ValueError("placement constants must be a mapping of name to number")
        unknown = sorted(set(overrides) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError("unknown placement constants: " + ", ".join(map(str, unknown)))
        bad = sorted(
            name
            for name, value in overrides.items()
            if not (_is_whole(value) if name in _WHOLE_NUMBER_FIELDS else _is_number(value))
        )
        if bad:
            shown = ", ".join(f"{name}={overrides[name]!r}" for name in bad)
            raise ValueError(
                "placement constants must be finite numbers (whole for counts): " + shown
            )
        defaults = cls()
        return cls(**{k: _like(getattr(defaults, k), v) for k, v in overrides.items()})

    def as_dict(self) -> dict[str, int | float]:
        """Every constant by name, as stored beside each result."""
        return asdict(self)

    def overrides(self) -> dict[str, int | float]:
        """Only the constants that differ from the defaults."""
        defaults = Constants()
        return {
            f.name: _like(getattr(defaults, f.name), getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)
        }

    @property
    def version_label(self) -> str:
        """``continuum-v1``, or ``continuum-v1+<8 hex>`` naming the overrides' hash."""
        overridden = self.overrides()
        if not overridden:
            return RULE_VERSION
        canonical = json.dumps(overridden, sort_keys=True, separators=(",", ":"))
        return f"{RULE_VERSION}+{hashlib.sha256(canonical.encode()).hexdigest()[:8]}"


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _is_whole(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _like(default: int | float, value: int | float) -> int | float:
    """``value`` in the default's type, so 2 and 2.0 give the same stored JSON."""
    if isinstance(default, int):
        if not _is_whole(value):
            raise ValueError(f"placement constant must be a whole number, got {value!r}")
        return int(value)
    return float(value)
