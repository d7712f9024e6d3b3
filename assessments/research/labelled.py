"""SPSS (.sav) and Stata (.dta) copies of the respondent and dyad files (DESIGN §6.2),
with variable and value labels taken from the codebook.

Pure: ``write_labelled`` reads the CSV file that the export wrote, so every number of a
labelled file is the number of the CSV file, and labels it from the codebook rows that
the export writes (``codebook_columns``); pyreadstat writes the file.

What a labelled file holds, column for column of the CSV file:
- the variable name is the column name with every character other than a letter, digit
  or ``_`` made ``_`` (``REL-LG-1`` is ``REL_LG_1``); the names must stay distinct;
- numbers are doubles, the nearest to the CSV text as Python's ``float`` reads it (pandas'
  parser; tests/research/test_labelled.py checks every 4-decimal number up to ±100), shown
  with the CSV's decimals; an empty cell is system-missing (SPSS) or ``.`` (Stata);
- a text column whose codebook lists its values (``role``, ``congruence``, ``state``,
  ``transition``, and ``language`` when the instruments carry more than one) holds the
  codes 1, 2, … in the order listed, each labelled with the listed text: Stata labels
  numbers only, and one coding serves both formats;
- ``submitted_at`` is a date-time in UTC; other text stays text, empty when missing;
- the variable label is an item's wording in the instrument's first language (both
  sides' when mentor and protégé read different words), otherwise the codebook's label;
  answers carry the labelled points of their scale (``1 = Strongly disagree`` …) as value
  labels. A label longer than the format keeps is cut and ends with ``…`` (``LIMITS``);
  the codebook has it whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyreadstat

from .files import CODEBOOK_COLUMNS

FORMATS = ("sav", "dta")
FILES = ("respondent", "dyad")
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The codebook's ``values`` of a coded text column, and of one labelled answer point;
# read_cohort.R uses the same two patterns.
CATEGORIES = re.compile(r"[a-z_]+(; [a-z_]+)+")
POINT = re.compile(r"(-?[0-9]+) = (.+)")
NUMERIC = ("integer", "float")


@dataclass(frozen=True)
class Limits:
    """What a format keeps: SPSS counts UTF-8 bytes and cuts longer labels silently
    (mid-character, so they are cut here first); Stata counts characters and refuses
    a longer variable or file label."""

    variable_label: int
    value_label: int
    file_label: int
    name: int
    in_bytes: bool


LIMITS = {
    "sav": Limits(variable_label=256, value_label=120, file_label=64, name=64, in_bytes=True),
    "dta": Limits(variable_label=80, value_label=32000, file_label=80, name=32, in_bytes=False),
}
# Display formats and SPSS measurement levels by kind of column.
DISPLAY = {
    "sav": {"float": "F10.4", "integer": "F8.0", "coded": "F8.0"},
    "dta": {"float": "%10.4f", "integer": "%8.0g", "coded": "%8.0g"},
}
MEASURE = {
    "float": "scale",
    "integer": "ordinal",
    "coded": "nominal",
    "string": "nominal",
    "datetime": "scale",
}


@dataclass(frozen=True)
class Column:
    """One column of a research file as its codebook row describes it."""

    name: str
    label: str
    type: str
    values: str
    text_mentor: str = ""
    text_protege: str = ""

    @property
    def categories(self) -> list[str]:
        """The listed values of a coded text column (``mentor; protege``), else none."""
        if self.type == "string" and CATEGORIES.fullmatch(self.values):
            return self.values.split("; ")
        return []

    @property
    def points(self) -> dict[int, str]:
        """Labelled answer points from the ``N = label`` parts of ``values``."""
        found = (POINT.fullmatch(part) for part in self.values.split("; "))
        return {int(match[1]): match[2] for match in found if match}

    @property
    def kind(self) -> str:
        """``coded`` for a text column with listed values, else the codebook type."""
        return "coded" if self.categories else self.type

    @property
    def description(self) -> str:
        """The variable label: the item's wording, else the codebook's label."""
        if not (self.text_mentor or self.text_protege):
            return self.label
        if self.text_mentor == self.text_protege:
            return self.text_mentor
        return f"protégé: {self.text_protege} | mentor: {self.text_mentor}"

    @property
    def value_labels(self) -> dict[int, str]:
        """Codes of a coded column, or the labelled points of an answer."""
        if self.categories:
            return dict(enumerate(self.categories, start=1))
        return self.points if self.type == "integer" else {}


def codebook_columns(rows: Iterable[Sequence[str]], *, file: str) -> dict[str, Column]:
    """``{column: Column}`` of one file from codebook rows in ``CODEBOOK_COLUMNS`` order
    (more columns after those, as per-language wordings, are ignored)."""
    at = {name: i for i, name in enumerate(CODEBOOK_COLUMNS)}
    fields = ("column", "label", "type", "values", "item_text_mentor", "item_text_protege")
    return {
        row[at["column"]]: Column(*(row[at[field]] for field in fields))
        for row in rows
        if row[at["file"]] == file
    }


def fit(text: str, limit: int, *, in_bytes: bool) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes or characters, ending with ``…``
    where it was cut."""

    def size(value: str) -> int:
        return len(value.encode()) if in_bytes else len(value)

    if size(text) <= limit:
        return text
    while text and size(text.rstrip() + "…") > limit:
        text = text[:-1]
    return text.rstrip() + "…"


def variable_names(columns: Sequence[str], *, limit: int) -> dict[str, str]:
    """``{column: variable name}``; raises ``ValueError`` when a name comes out too long
    or two columns would share one."""
    names = {}
    for column in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", column)
        names[column] = name if name[:1].isalpha() else f"v{name}"
    too_long = [n for n in names.values() if len(n.encode()) > limit]
    if too_long or len(set(names.values())) != len(names):
        raise ValueError(f"variable names too long or not distinct: {too_long or names}")
    return names


def read_frame(source: Path, columns: dict[str, Column]) -> pd.DataFrame:
    """The CSV file ``source`` with typed columns as the module docstring describes them,
    under their CSV names. Raises ``ValueError`` for a column without a codebook row, a
    value a coded column does not list, or a type without a rule."""
    header = list(pd.read_csv(source, nrows=0).columns)
    unknown = [c for c in header if c not in columns]
    if unknown:
        raise ValueError(f"{source.name}: no codebook row for {', '.join(unknown)}")
    numeric = [c for c in header if columns[c].type in NUMERIC]
    frame = pd.read_csv(
        source,
        dtype={c: "float64" if c in numeric else "str" for c in header},
        keep_default_na=False,
        na_values={c: [""] for c in numeric},
        encoding="utf-8",
    )
    return frame.assign(**{c: _typed(frame[c], columns[c]) for c in header})


def _typed(values: pd.Series, column: Column) -> pd.Series:
    if column.categories:
        codes = {text: float(code) for code, text in column.value_labels.items()}
        unlisted = set(values) - codes.keys() - {""}
        if unlisted:
            raise ValueError(f"{column.name}: {sorted(unlisted)} not among {column.values}")
        return values.map(codes).astype("float64")
    if column.type == "datetime":
        return pd.to_datetime(values.where(values != ""), format=DATETIME_FORMAT)
    if column.type in (*NUMERIC, "string"):
        return values
    raise ValueError(f"{column.name}: no rule for the type {column.type!r}")


def write_labelled(
    *, source: Path, columns: dict[str, Column], format: str, target: Path, file_label: str
) -> int:
    """Write the CSV file ``source`` as ``format`` (``sav`` or ``dta``) to ``target``,
    labelled from ``columns`` (``codebook_columns`` of its file); return its row count."""
    limits = LIMITS[format]
    frame = read_frame(source, columns)
    described = [columns[c] for c in frame.columns]
    names = variable_names(list(frame.columns), limit=limits.name)

    def cut(text: str, limit: int) -> str:
        return fit(text, limit, in_bytes=limits.in_bytes)

    options = {
        "file_label": cut(file_label, limits.file_label),
        "column_labels": {names[c.name]: cut(c.description, limits.variable_label)
                          for c in described},
        "variable_value_labels": {
            names[c.name]: {code: cut(text, limits.value_label)
                            for code, text in c.value_labels.items()}
            for c in described if c.value_labels
        },
        "variable_format": {names[c.name]: DISPLAY[format][c.kind]
                            for c in described if c.kind in DISPLAY[format]},
    }  # fmt: skip
    frame = frame.rename(columns=names)
    if format == "sav":
        measure = {names[c.name]: MEASURE[c.kind] for c in described}
        pyreadstat.write_sav(frame, str(target), variable_measure=measure, **options)
    else:
        pyreadstat.write_dta(frame, str(target), version=15, **options)
    return len(frame)
