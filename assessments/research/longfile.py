"""Reading and checking a ``long`` file (DESIGN §6.2) before anything is loaded.

Pure: the file's bytes and a catalogue of known items go in; rows ready to load and a
list of problems, each naming its line, come out. Line 1 is the header.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from ..languages import LANGUAGE
from ..measurement.rules import ROLES
from .files import LONG_COLUMNS

# A file written before responses recorded their language has every column but the last;
# its responses are taken as answered in their instrument's first language.
LONG_COLUMNS_BEFORE_LANGUAGE = LONG_COLUMNS[:-1]

# Slugs and research codes: no spaces, quotes, commas or line breaks, so a code is the
# same cell in every file and every export path (``pgcopy.long_copy`` relies on it).
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# ASCII digits only: ``str.isdigit`` and ``int`` also take "٣" or "３", which the survey
# refuses and no export writes.
WHOLE = re.compile(r"[0-9]+")
SIGNED = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class ItemSpec:
    battery: str
    subscale: str
    reverse_keyed: bool
    allow_na: bool
    low: int
    high: int


@dataclass(frozen=True)
class Row:
    line: int
    program: str
    cohort: str
    wave: int
    dyad: str
    respondent: str
    role: str
    instrument: str
    version: int
    item: str
    value: int | None
    submitted_at: dt.datetime
    language: str | None = None  # None: the file has no language column

    @property
    def response_key(self) -> tuple:
        return (self.program, self.cohort, self.wave, self.dyad, self.role)


Catalogue = dict[tuple[str, int], dict[str, ItemSpec]]
Languages = dict[tuple[str, int], list[str]]


def read_long(
    data: bytes, catalogue: Catalogue, languages: Languages | None = None
) -> tuple[list[Row], list[str]]:
    """Every row of the file and every problem found; load only when problems is empty.

    ``languages`` (instrument code and version -> its languages) checks the ``language``
    column, which may be left out altogether (``LONG_COLUMNS_BEFORE_LANGUAGE``)."""
    if not data.strip():
        return [], ["line 1: the file is empty; expected the long header"]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return [], [f"line {line}: not UTF-8 text; save the file as UTF-8"]
    records = _records(text)
    _line, header = next(records, (1, []))
    if header not in (LONG_COLUMNS, LONG_COLUMNS_BEFORE_LANGUAGE):
        return [], [f"line 1: the header must be exactly {','.join(LONG_COLUMNS)}"]
    columns = header
    rows, problems = [], []
    for line, cells in records:
        if cells is None:
            problems.append(
                f"line {line}: a cell is longer than {csv.field_size_limit()} characters "
                "or the line is not valid CSV; nothing after it was read"
            )
            break
        row = _row(line, cells, columns, catalogue, languages or {}, problems)
        if row is not None:
            rows.append(row)
    problems += _across_rows(rows)
    return rows, problems


def _records(text: str) -> Iterator[tuple[int, list[str] | None]]:
    """``(line, cells)`` of each CSV record, the header as line 1. A record the csv module
    refuses (a cell over its field limit of 128 KiB) comes as ``(line, None)``, last."""
    reader = csv.reader(io.StringIO(text, newline=""))
    for line in itertools.count(1):
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield line, None
            return
        yield line, cells


def _row(
    line: int, cells: list[str], columns: list[str], catalogue: Catalogue,
    languages: Languages, problems: list[str],
) -> Row | None:  # fmt: skip
    if len(cells) != len(columns):
        problems.append(
            f"line {line}: {len(cells)} fields instead of {len(columns)} "
            "(a truncated or malformed line)"
        )
        return None
    values = dict(zip(columns, cells, strict=True))
    before = len(problems)
    wave = _whole(values["wave"], "wave", line, problems)
    version = _whole(values["instrument_version"], "instrument_version", line, problems)
    if values["role"] not in ROLES:
        problems.append(f"line {line}: role {values['role']!r} must be mentor or protege")
    for key in ("program", "cohort", "dyad", "respondent", "item"):
        if not values[key].strip():
            problems.append(f"line {line}: {key} is empty")
        elif key != "item" and not CODE.fullmatch(values[key]):
            problems.append(
                f"line {line}: {key} {values[key]!r} must be letters, digits, '.', '_' or '-' "
                "(at most 64, starting with a letter or digit)"
            )
    spec = catalogue.get((values["instrument"], version or 0), {}).get(values["item"])
    if version is not None and (values["instrument"], version) not in catalogue:
        problems.append(
            f"line {line}: unknown instrument {values['instrument']} "
            f"version {values['instrument_version']}; load it first"
        )
    elif spec is None and version is not None:
        problems.append(
            f"line {line}: {values['item']} is not an item of {values['instrument']} v{version}"
        )
    value = _value(values, spec, line, problems) if spec else None
    moment = _moment(values["submitted_at"], line, problems)
    language = values.get("language")
    if language is not None:
        carried = languages.get((values["instrument"], version or 0))
        _language(language, carried, line, problems)
    if len(problems) > before:
        return None
    return Row(line, values["program"], values["cohort"], wave, values["dyad"],
               values["respondent"], values["role"], values["instrument"], version,
               values["item"], value, moment, language)  # fmt: skip


def _language(code: str, carried: list[str] | None, line: int, problems: list[str]) -> None:
    if not LANGUAGE.fullmatch(code):
        problems.append(f"line {line}: language {code!r} must be a language code such as en")
    elif carried is not None and code not in carried:
        problems.append(
            f"line {line}: the instrument has no {code} wording (it has {', '.join(carried)})"
        )


def _whole(text: str, name: str, line: int, problems: list[str]) -> int | None:
    if WHOLE.fullmatch(text) and int(text) >= 1:
        return int(text)
    problems.append(f"line {line}: {name} {text!r} must be a whole number from 1")
    return None


def _value(values: dict, spec: ItemSpec, line: int, problems: list[str]) -> int | None:
    expected = (spec.battery, spec.subscale, "true" if spec.reverse_keyed else "false")
    if (values["battery"], values["subscale"], values["reverse_keyed"]) != expected:
        problems.append(
            f"line {line}: battery, subscale or reverse_keyed of {values['item']} "
            f"differ from the instrument ({', '.join(expected)})"
        )
    text = values["value"]
    if text == "":
        if not spec.allow_na:
            problems.append(
                f"line {line}: {values['item']} needs a value; it has no 'not applicable'"
            )
        return None
    if not SIGNED.fullmatch(text):
        problems.append(f"line {line}: value {text!r} is not a whole number")
        return None
    if not spec.low <= int(text) <= spec.high:
        problems.append(
            f"line {line}: value {text} is outside {spec.low}..{spec.high} for {values['item']}"
        )
        return None
    return int(text)


def _moment(text: str, line: int, problems: list[str]) -> dt.datetime | None:
    try:
        moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        problems.append(f"line {line}: submitted_at {text!r} must look like 2026-03-04T10:15:00Z")
        return None
    return moment.replace(tzinfo=dt.UTC)


def _across_rows(rows: list[Row]) -> list[str]:
    problems, seen = [], {}
    times, people, roles = defaultdict(set), defaultdict(set), defaultdict(dict)
    spoken = defaultdict(set)
    for row in rows:
        key = (*row.response_key, row.item)
        if key in seen:
            problems.append(
                f"line {row.line}: duplicate answer to {row.item} (first on line {seen[key]})"
            )
        seen.setdefault(key, row.line)
        times[row.response_key].add(row.submitted_at)
        spoken[row.response_key].add(row.language)
        people[row.response_key].add(row.respondent)
        dyad = (row.program, row.cohort, row.dyad)
        other = roles[dyad].setdefault(row.role, row.respondent)
        if other != row.respondent:
            problems.append(f"line {row.line}: dyad {row.dyad} already has {other} as {row.role}")
        partner = roles[dyad].get("protege" if row.role == "mentor" else "mentor")
        if partner == row.respondent:
            problems.append(
                f"line {row.line}: {row.respondent} cannot be both mentor and "
                f"protégé of dyad {row.dyad}"
            )
    first_line = {}
    for row in rows:
        first_line.setdefault(row.response_key, row.line)
    for key, moments in times.items():
        if len(moments) > 1:
            problems.append(
                f"line {first_line[key]}: one response has "
                f"{len(moments)} different submitted_at values"
            )
    for key, found in spoken.items():
        if len(found) > 1:
            problems.append(
                f"line {first_line[key]}: one response is in "
                f"{len(found)} languages ({', '.join(sorted(map(str, found)))})"
            )
    return problems
