"""The languages of an instrument definition: which it declares, whether each is complete,
and which one a page shows.

A definition keeps its first language in the plain fields it always had (``title``,
``mentor``, ``protege``, ``intro_mentor``, ``scale.labels`` …) and lists its languages in
``languages`` (``["en", "es", "fr"]``; a definition without the key is English only).
Every part with wording (the instrument, a battery, a subscale, an item) gives the other
languages in ``translations``: ``{"es": {...}, "fr": {...}}``, each repeating the part's
text fields under the same names and nesting, for example an item's
``{"mentor": "…", "protege": "…"}`` or a battery's ``{"title": "…", "intro_mentor": "…",
"intro_protege": "…", "scale": {"labels": [...]}}``. A declared language must give every
text its part has in the first language; ``check_translations`` names each one missing.

No Django imports: ``instruments`` validates with it and the models resolve with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# A language code as Django spells it: ``en``, ``es``, ``pt-br``, ``zh-hans``.
LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
DEFAULT_LANGUAGES = ("en",)

# The translatable texts of each kind of part, as paths into the definition object
# (``scale.labels`` is the list of the battery's point labels).
TEXTS: dict[str, tuple[str, ...]] = {
    "instrument": ("title", "description"),
    "battery": ("title", "intro_mentor", "intro_protege", "scale.labels"),
    "subscale": ("title", "description", "strategy.title", "strategy.advice"),
    "item": ("mentor", "protege"),
}
# How a report names a missing text, so a translator finds it without reading paths.
FIELD_NAMES = {
    "mentor": "mentor-side wording",
    "protege": "protégé-side wording",
    "intro_mentor": "introduction for mentors",
    "intro_protege": "introduction for protégés",
    "scale.labels": "scale point labels",
    "strategy.title": "growth strategy title",
    "strategy.advice": "growth strategy advice",
}


def declared_languages(definition: dict[str, Any]) -> list[str]:
    """The definition's languages, first language first (``["en"]`` when not declared)."""
    languages = definition.get("languages")
    if isinstance(languages, list) and languages and all(isinstance(x, str) for x in languages):
        return list(languages)
    return list(DEFAULT_LANGUAGES)


def check_languages(definition: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems of the ``languages`` list as ``(location, message)`` pairs."""
    if "languages" not in definition:
        return []
    languages = definition["languages"]
    if not isinstance(languages, list) or not languages:
        return [("languages", 'must be a non-empty list of language codes, such as ["en"]')]
    problems = []
    for index, code in enumerate(languages):
        if not isinstance(code, str) or not LANGUAGE.fullmatch(code):
            problems.append((f"languages[{index}]", f"{code!r} is not a language code like es"))
        elif code in languages[:index]:
            problems.append((f"languages[{index}]", f"{code} is listed twice"))
    return problems


def flat_texts(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """The part's texts by path (``TEXTS[kind]``), leaving out the absent and blank ones."""
    found = {}
    for path in TEXTS[kind]:
        value: Any = obj
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if _present(value):
            found[path] = value
    return found


def check_translations(
    obj: dict[str, Any], *, kind: str, where: str, label: str, languages: Sequence[str]
) -> list[tuple[str, str]]:
    """Every translation problem of one part as ``(location, message)``: a declared
    language that lacks one of the part's texts (named by ``label``, such as
    ``item REL-TC-2``, and the field), a language that is not declared, a key that is
    no text of the part, or labels that do not match the scale's points."""
    translations = obj.get("translations", {})
    if not isinstance(translations, dict):
        return [(f"{where}.translations", "must be an object of texts per language")]
    problems = [
        (f"{where}.translations.{code}", _undeclared(code, languages))
        for code in translations
        if code not in languages[1:]
    ]
    texts = flat_texts(obj, kind)
    for code in languages[1:]:
        given = translations.get(code, {})
        if not isinstance(given, dict):
            problems.append((f"{where}.translations.{code}", "must be an object of texts"))
            continue
        problems += _missing(texts, given, kind, f"{where}.translations.{code}", label, code)
    return problems


def _undeclared(code: str, languages: Sequence[str]) -> str:
    if languages and code == languages[0]:
        return f"{code} is the first language: its texts are the plain fields"
    return f"language {code} is not declared in languages"


def _missing(texts, given, kind, where, label, code) -> list[tuple[str, str]]:
    problems = []
    flat = _flatten(given)
    for path in sorted(set(flat) - set(TEXTS[kind])):
        problems.append((f"{where}.{path}", f"unknown key {path!r} in the {code} texts"))
    for path, original in texts.items():
        value = flat.get(path)
        name = FIELD_NAMES.get(path, path)
        if not _present(value):
            problems.append((f"{where}.{path}", f"{label}: the {code} {name} is missing"))
        elif isinstance(original, list) and (
            not isinstance(value, list) or len(value) != len(original)
        ):
            problems.append(
                (f"{where}.{path}", f"{label}: the {code} {name} need {len(original)} labels")
            )
    return problems


def _flatten(given: dict[str, Any]) -> dict[str, Any]:
    flat = {}
    for key, value in given.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{inner}": text for inner, text in value.items()})
        else:
            flat[key] = value
    return flat


def _present(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, str) and v.strip() for v in value)
    return False


def language_for(requested: str | None, available: Sequence[str]) -> str:
    """The language of ``available`` to show for the ``requested`` one (Django's active
    language): itself, else its base (``es`` for ``es-mx``), else a regional variant of
    that base, else the first language of ``available``."""
    if not available:
        return DEFAULT_LANGUAGES[0]
    wanted = (requested or "").lower().replace("_", "-")
    base = wanted.split("-")[0]
    for candidate in (wanted, base):
        if candidate in available:
            return candidate
    for code in available:
        if code.split("-")[0] == base:
            return code
    return available[0]


# Where a definition's text path is kept in a part's ``translations`` field.
STORED_KEYS = {"scale.labels": "labels", "strategy.title": "strategy_title",
               "strategy.advice": "strategy_advice"}  # fmt: skip


def stored_translations(obj: dict[str, Any], *, kind: str, languages: Sequence[str]):
    """A part's ``translations`` field from its definition: ``{language: {key: text}}`` for
    every language after the first, keys as ``STORED_KEYS`` renames them."""
    given = obj.get("translations", {})
    return {
        code: {STORED_KEYS.get(path, path): text for path, text in _flatten(given[code]).items()}
        for code in languages[1:]
        if isinstance(given.get(code), dict)
    }


def only_gains_languages(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``new`` is the loaded definition ``old`` with languages added after its
    own, their texts, and growth strategies for subscales that had none: every other
    key, and every text of ``old``'s languages, is the same."""
    old_languages, new_languages = declared_languages(old), declared_languages(new)
    if new_languages[: len(old_languages)] != old_languages:
        return False
    keep = set(old_languages)
    return _projected(new, old, keep) == _projected(old, old, keep)


def _projected(value: Any, old: Any, keep: set[str]) -> Any:
    """``value`` without ``languages``, without translations other than ``keep``'s and
    without the strategies that ``old`` (the same place in the loaded definition) lacks."""
    if isinstance(value, list):
        olds = old if isinstance(old, list) else []
        return [
            _projected(v, olds[i] if i < len(olds) else None, keep) for i, v in enumerate(value)
        ]
    if not isinstance(value, dict):
        return value
    before = old if isinstance(old, dict) else {}
    out = {}
    for key, inner in value.items():
        if key == "languages" or (key == "strategy" and "strategy" not in before):
            continue
        if key == "translations" and isinstance(inner, dict):
            inner = {code: texts for code, texts in inner.items() if code in keep}
            if not inner:
                continue
        out[key] = _projected(inner, before.get(key), keep)
    return out
