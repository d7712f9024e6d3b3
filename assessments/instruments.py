"""Validation of instrument definitions (``fixtures/instruments/*.json``).

A definition is plain data; this module checks it completely and reports every
problem with its location (a JSON path such as ``batteries[0].subscales[1].items[2].mentor``)
before anything is loaded. No Django imports: the loader lives in ``services.py``.

Wording in several languages (``languages``, ``translations``) is described in
``languages``; every declared language must be complete. A subscale may carry the growth
``strategy`` (``title``, ``advice``) a results page suggests when it is among a partner's
weakest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .languages import check_languages, check_translations, declared_languages
from .measurement.rules import BATTERIES

MAX_SCALE_POINTS = 11
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Subscale and item codes become CSV cells and column names: no spaces, commas or breaks.
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
INSTRUMENT_KEYS = {"code", "version", "title", "description", "languages", "translations",
                   "batteries"}  # fmt: skip
BATTERY_KEYS = {"code", "title", "intro_mentor", "intro_protege", "scale", "subscales",
                "translations"}  # fmt: skip
SUBSCALE_KEYS = {"code", "title", "description", "strategy", "items", "translations"}
ITEM_KEYS = {"code", "mentor", "protege", "reverse_keyed", "allow_na", "translations"}
STRATEGY_KEYS = {"title", "advice"}


@dataclass(frozen=True)
class Problem:
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class InvalidDefinition(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def read_definition(path: Path) -> dict[str, Any]:
    """Parse a definition file, turning any reading error into an ``InvalidDefinition``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidDefinition([Problem(str(path), "file not found")]) from None
    except UnicodeDecodeError as error:
        raise InvalidDefinition([Problem(str(path), f"not UTF-8 text ({error.reason})")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"{path}:{error.lineno}:{error.colno}"
        raise InvalidDefinition([Problem(where, f"invalid JSON: {error.msg}")]) from None
    if not isinstance(data, dict):
        raise InvalidDefinition([Problem("(top)", "the definition must be a JSON object")])
    return data


def validate_definition(data: dict[str, Any]) -> list[Problem]:
    """Every problem of a definition, in document order; an empty list means valid."""
    problems: list[Problem] = []
    _unknown_keys(data, INSTRUMENT_KEYS, "(top)", problems)
    _text(data, "code", "(top)", problems)
    if isinstance(data.get("code"), str) and not SLUG.match(data["code"]):
        problems.append(Problem("code", "use lowercase letters, digits and hyphens"))
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append(Problem("version", "must be a whole number of at least 1"))
    _text(data, "title", "(top)", problems)
    problems += [Problem(*found) for found in check_languages(data)]
    languages = declared_languages(data)
    _translated(data, "instrument", "(top)", "the instrument", languages, problems)
    batteries = data.get("batteries")
    if not isinstance(batteries, list) or not batteries:
        problems.append(Problem("batteries", "at least one battery is required"))
        return problems
    seen_batteries: dict[str, str] = {}
    seen: dict[str, str] = {}  # subscale and item codes share one namespace
    for index, battery in enumerate(batteries):
        _check_battery(battery, f"batteries[{index}]", seen_batteries, seen, problems)
        _translated_parts(battery, f"batteries[{index}]", languages, problems)
    return problems


def _translated_parts(battery: Any, where: str, languages: list[str], problems) -> None:
    """The translation problems of a battery and of its subscales and items."""
    if not isinstance(battery, dict):
        return
    _translated(battery, "battery", where, f"battery {battery.get('code')}", languages, problems)
    for s_index, subscale in enumerate(_parts(battery, "subscales")):
        at = f"{where}.subscales[{s_index}]"
        label = f"subscale {subscale.get('code')}"
        _translated(subscale, "subscale", at, label, languages, problems)
        for i_index, item in enumerate(_parts(subscale, "items")):
            label = f"item {item.get('code')}"
            _translated(item, "item", f"{at}.items[{i_index}]", label, languages, problems)


def _parts(obj: dict, key: str) -> list[dict]:
    found = obj.get(key)
    return [part for part in found if isinstance(part, dict)] if isinstance(found, list) else []


def _translated(obj: dict, kind: str, where: str, label: str, languages, problems) -> None:
    base = "" if where == "(top)" else where
    found = check_translations(obj, kind=kind, where=base, label=label, languages=languages)
    problems += [Problem(location.lstrip("."), message) for location, message in found]


def _check_battery(battery: Any, where: str, seen_batteries, seen, problems) -> None:
    if not isinstance(battery, dict):
        problems.append(Problem(where, "must be an object"))
        return
    _unknown_keys(battery, BATTERY_KEYS, where, problems)
    code = battery.get("code")
    if code not in BATTERIES:
        problems.append(Problem(f"{where}.code", f"must be one of {', '.join(BATTERIES)}"))
    else:
        _unique(code, f"{where}.code", "battery", seen_batteries, problems)
    _text(battery, "title", where, problems)
    scale = _check_scale(battery.get("scale"), f"{where}.scale", problems)
    subscales = battery.get("subscales")
    if not isinstance(subscales, list) or not subscales:
        problems.append(Problem(f"{where}.subscales", "at least one subscale is required"))
        return
    for index, subscale in enumerate(subscales):
        _check_subscale(subscale, f"{where}.subscales[{index}]", code, scale, seen, problems)


def _check_scale(scale: Any, where: str, problems: list[Problem]) -> bool:
    if not isinstance(scale, dict):
        problems.append(Problem(where, "a scale with min, max and labels is required"))
        return False
    low, high, labels = scale.get("min"), scale.get("max"), scale.get("labels")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
        problems.append(Problem(where, "min and max must be whole numbers"))
        return False
    if not 0 <= low < high or high - low + 1 > MAX_SCALE_POINTS:
        problems.append(
            Problem(
                where,
                f"needs 0 ≤ min < max and at most {MAX_SCALE_POINTS} points, got {low}..{high}",
            )
        )
        return False
    points = high - low + 1
    if not isinstance(labels, list) or len(labels) != points:
        problems.append(Problem(f"{where}.labels", f"needs exactly {points} labels, one a point"))
    elif not all(isinstance(label, str) and label.strip() for label in labels):
        problems.append(Problem(f"{where}.labels", "every point needs a non-empty label"))
    return True


def _check_subscale(subscale, where, battery_code, scale_ok, seen, problems) -> None:
    if not isinstance(subscale, dict):
        problems.append(Problem(where, "must be an object"))
        return
    _unknown_keys(subscale, SUBSCALE_KEYS, where, problems)
    code = subscale.get("code")
    if not isinstance(code, str) or not code:
        problems.append(Problem(f"{where}.code", "is required"))
    else:
        if isinstance(battery_code, str) and not code.startswith(battery_code):
            problems.append(Problem(f"{where}.code", f"must start with {battery_code}"))
        _code_shape(code, where, problems)
        _unique(code, f"{where}.code", "subscale", seen, problems)
    _text(subscale, "title", where, problems)
    _check_strategy(subscale, where, problems)
    items = subscale.get("items")
    if not isinstance(items, list) or not items:
        problems.append(Problem(f"{where}.items", f"subscale {code} has no items"))
        return
    for index, item in enumerate(items):
        _check_item(item, f"{where}.items[{index}]", code, seen, problems)


def _check_strategy(subscale: dict, where: str, problems: list[Problem]) -> None:
    if "strategy" not in subscale:
        return
    strategy = subscale["strategy"]
    if not isinstance(strategy, dict):
        problems.append(Problem(f"{where}.strategy", "must be an object with title and advice"))
        return
    _unknown_keys(strategy, STRATEGY_KEYS, f"{where}.strategy", problems)
    for key in ("title", "advice"):
        _text(strategy, key, f"{where}.strategy", problems, what=f"the strategy {key}")


def _check_item(item, where, subscale_code, seen, problems) -> None:
    if not isinstance(item, dict):
        problems.append(Problem(where, "must be an object"))
        return
    _unknown_keys(item, ITEM_KEYS, where, problems)
    code = item.get("code")
    if not isinstance(code, str) or not code:
        problems.append(Problem(f"{where}.code", "is required"))
    else:
        if isinstance(subscale_code, str) and not code.startswith(f"{subscale_code}-"):
            problems.append(Problem(f"{where}.code", f"must start with {subscale_code}-"))
        _code_shape(code, where, problems)
        _unique(code, f"{where}.code", "item", seen, problems)
    for side in ("mentor", "protege"):
        _text(item, side, where, problems, what=f"the {side} wording")
    for flag in ("reverse_keyed", "allow_na"):
        if flag in item and not isinstance(item[flag], bool):
            problems.append(Problem(f"{where}.{flag}", "must be true or false"))


def _code_shape(code: str, where: str, problems: list[Problem]) -> None:
    if not CODE.fullmatch(code):
        problems.append(Problem(f"{where}.code", "use letters, digits, '.', '_' and '-' only"))


def _text(obj: dict, key: str, where: str, problems: list[Problem], what: str = "") -> None:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        location = key if where == "(top)" else f"{where}.{key}"
        problems.append(Problem(location, f"{what or key} is missing or empty"))


def _unique(code: str, where: str, kind: str, seen: dict[str, str], problems) -> None:
    if code in seen:
        problems.append(
            Problem(where, f"duplicate {kind} code {code} (first used at {seen[code]})")
        )
    else:
        seen[code] = where


def _unknown_keys(obj: dict, allowed: set[str], where: str, problems: list[Problem]) -> None:
    for key in sorted(set(obj) - allowed):
        problems.append(Problem(where, f"unknown key {key!r}"))
