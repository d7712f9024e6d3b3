"""Research files of a cohort (DESIGN §6.2): their columns and row writers.

Pure: the functions take plain rows or DataFrames and yield CSV text; the database
reads live in ``research.selectors`` and only views and commands touch HTTP or files.
Every cell passes through ``neutralise``, the one place that defuses formula-like text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandas as pd

from .. import cells
from ..measurement.rules import BATTERIES, SCORE_COLUMNS, STATES

SCORES = SCORE_COLUMNS
PAIRWISE_SCORES = BATTERIES
SIDES = ("mentor", "protege", "dyad", "diff")
ROWS_PER_CHUNK = 1000

LONG_COLUMNS = [
    "program", "cohort", "wave", "dyad", "respondent", "role", "instrument",
    "instrument_version", "item", "battery", "subscale", "reverse_keyed", "value", "submitted_at",
    "language",
]  # fmt: skip
RESPONDENT_ID_COLUMNS = ["program", "cohort", "wave", "dyad", "respondent", "role", "submitted_at"]
# Every scored file ends with the rule version its scores were computed under, so that a
# reader can check that the files of one export agree (DESIGN §4: history is labelled);
# the respondent file then names the language the response was answered in.
RESPONDENT_TAIL_COLUMNS = [*SCORES, "rule_version", "language"]
DYAD_ID_COLUMNS = ["program", "cohort", "wave", "dyad", "mentor", "protege"]
DYAD_TAIL_COLUMNS = [
    "CN_gap", "congruence", "position", "state", "flags", "change", "transition", "rule_version",
]  # fmt: skip
DYAD_COLUMNS = [
    *DYAD_ID_COLUMNS,
    *[f"{x}_{side}" for x in SCORES for side in SIDES],
    *DYAD_TAIL_COLUMNS,
]
PAIRWISE_COLUMNS = [
    "program", "cohort", "wave", "dyad", "respondent", "role",
    *[f"{x}_{who}" for x in PAIRWISE_SCORES for who in ("A", "P")],
    "rule_version",
]  # fmt: skip
CODEBOOK_COLUMNS = [
    "file", "column", "label", "type", "values", "item_text_mentor", "item_text_protege",
    "battery", "subscale", "reverse_keyed",
]  # fmt: skip


def codebook_columns(languages: Sequence[str] = ()) -> list[str]:
    """The codebook's header: ``CODEBOOK_COLUMNS`` (wording in each instrument's first
    language), then ``item_text_mentor_<code>, item_text_protege_<code>`` for each
    other language of ``languages``."""
    more = [f"item_text_{side}_{code}" for code in languages for side in ("mentor", "protege")]
    return [*CODEBOOK_COLUMNS, *more]


def number(value: Any, digits: int = 4) -> str:
    """A score with ``digits`` decimals; empty for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{float(value):.{digits}f}"


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text in chunks of ``ROWS_PER_CHUNK`` rows (``cells.csv_chunks``)."""
    return cells.csv_chunks(header, rows, per_chunk=ROWS_PER_CHUNK)


def long_rows(records: Iterable[tuple]) -> Iterator[list[Any]]:
    """Rows of the long file from records in ``LONG_COLUMNS`` order (value None = NA)."""
    for record in records:
        row = list(record)
        row[11] = "true" if row[11] else "false"
        row[12] = "" if row[12] is None else int(row[12])
        yield row


def respondent_frame(
    scores: pd.DataFrame, answers: pd.DataFrame, codes: pd.DataFrame, **same: str
) -> pd.DataFrame:
    """One batch of the respondent and pairwise files, in (dyad code, role) order.

    ``scores``: ``pipeline.respondent_scores`` (indexed by response); ``answers``:
    ``ANSWERS_COLUMNS``, pivoted into ``CODE#raw`` columns; ``codes``: ``dyad_code,
    respondent, submitted_at`` by response; ``same``: columns equal on every row
    (``program``, ``cohort``, ``rule_version``).
    """
    raw = answers.pivot(index="response", columns="item", values="value")
    frame = scores.join(raw.add_suffix("#raw"), how="left").join(codes, how="left")
    frame = frame.reset_index().sort_values(["dyad_code", "role"])
    return frame.assign(dyad=frame["dyad_code"], **same)


def respondent_rows(frame: pd.DataFrame, item_codes: list[str], subscales: list[str]):
    """Rows of the respondent file: ids, raw items (``CODE#raw``), subscale and battery
    scores, rule version."""
    for values in frame.to_dict("records"):
        yield [
            *(values[c] for c in RESPONDENT_ID_COLUMNS),
            *(_raw(values.get(f"{code}#raw")) for code in item_codes),
            *(number(values.get(code)) for code in subscales),
            *(number(values.get(x)) for x in SCORES),
            values["rule_version"],
            values["language"],
        ]


def respondent_columns(item_codes: list[str], subscales: list[str]) -> list[str]:
    return [*RESPONDENT_ID_COLUMNS, *item_codes, *subscales, *RESPONDENT_TAIL_COLUMNS]


def _raw(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return int(value)


def dyad_rows(records: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    """Rows of the dyad file from stored results (keys as in ``DYAD_COLUMNS``)."""
    for r in records:
        yield [
            *(r[c] for c in DYAD_ID_COLUMNS),
            *(number(r[f"{x}_{s}"]) for x in SCORES for s in SIDES),
            number(r["CN_gap"]),
            r["congruence"],
            number(r["position"]),
            r["state"],
            ";".join(sorted(r["flags"])),
            number(r["change"]),
            r["transition"],
            r["rule_version"],
        ]


def pairwise_rows(frame: pd.DataFrame) -> Iterator[list[Any]]:
    """Each respondent's scores (A) beside the partner's (P) from the same dyad and wave."""
    keys = ["dyad", "wave"]
    partner = frame[[*keys, "role", *PAIRWISE_SCORES]].copy()
    partner["role"] = partner["role"].map({"mentor": "protege", "protege": "mentor"})
    both = frame.merge(partner, on=[*keys, "role"], how="left", suffixes=("", "_P"))
    for record in both.to_dict("records"):
        yield [
            *(record[c] for c in ("program", "cohort", "wave", "dyad_code", "respondent", "role")),
            *(number(record[f"{x}{suffix}"]) for x in PAIRWISE_SCORES for suffix in ("", "_P")),
            record["rule_version"],
        ]


def codebook_rows(
    items: pd.DataFrame,
    subscales: list[str],
    languages: Sequence[str] = (),
    answered_in: Sequence[str] = (),
) -> Iterator[list[Any]]:
    """One row per column of the other four files (``codebook_columns(languages)``),
    items with both wordings in their instrument's first language and then in each of
    ``languages`` (``items`` columns ``text_mentor_<code>``, ``text_protege_<code>``;
    empty where an instrument lacks the language). The ``language`` column's values are
    ``answered_in``, every language of the cohort's instruments."""
    blank = [""] * (2 * len(languages))
    for column, label, kind, values in _fixed_columns():
        if column == "language":
            values = "; ".join(answered_in)
        for file in _files_with(column):
            yield [file, column, label, kind, values, "", "", "", "", "", *blank]
    records = items.to_dict("records")
    for item in records:
        yield [
            "respondent", item["item"], f"raw answer to {item['item']}", "integer",
            scale_values(item["scale_min"], item["scale_max"], item["scale_labels"]),
            item["text_mentor"], item["text_protege"], item["battery"], item["subscale"],
            "true" if item["reverse_keyed"] else "false",
            *(item[f"text_{side}_{code}"] for code in languages for side in ("mentor", "protege")),
        ]  # fmt: skip
    for code in subscales:
        yield ["respondent", code, f"subscale score {code} (mean of answered items, reverse "
               "keyed)", "float", "scale units; empty when too few items", "", "",
               code.split("-")[0], code, "", *blank]  # fmt: skip


def scale_values(low: int, high: int, labels: Sequence[str]) -> str:
    """The codebook's ``values`` of an answer: the range, then each labelled point as
    ``N = label``: ``1..7; 1 = Strongly disagree; …; 7 = Strongly agree; empty = …``.

    The labelled files (``labelled``) and read_cohort.R take their value labels from this
    text, so a ``;`` inside a point's label becomes ``,``.
    """
    points = zip(range(low, high + 1), [*labels, *[""] * (high - low + 1)], strict=False)
    named = [f"{value} = {label.replace(';', ',')}" for value, label in points if label]
    return "; ".join([f"{low}..{high}", *named, "empty = not applicable or missing"])


FIXED = [
    ("program", "program slug", "string", ""),
    ("cohort", "cohort slug", "string", ""),
    ("wave", "wave number within the cohort", "integer", "1, 2, ..."),
    ("dyad", "dyad research code", "string", "D-XXXXXX"),
    ("respondent", "respondent research code", "string", "P-XXXXXX"),
    (
        "mentor",
        "mentor research code; empty if they submitted nothing in the cohort",
        "string",
        "P-XXXXXX",
    ),
    (
        "protege",
        "protégé research code; empty if they submitted nothing in the cohort",
        "string",
        "P-XXXXXX",
    ),
    ("role", "respondent's role in the dyad", "string", "mentor; protege"),
    ("instrument", "instrument code", "string", ""),
    ("instrument_version", "instrument version", "integer", ""),
    ("item", "item code", "string", "BATTERY-SUBSCALE-N"),
    ("battery", "battery code", "string", "; ".join(BATTERIES)),
    ("subscale", "subscale code", "string", ""),
    ("reverse_keyed", "item is reverse keyed", "boolean", "true; false"),
    ("value", "raw answer before reverse keying", "integer", "empty = not applicable"),
    ("submitted_at", "submission time, UTC", "datetime", "ISO 8601"),
    ("language", "language the response was answered in", "string", ""),
    ("CN_gap", "|protégé − mentor| on communal norms", "float", ""),
    ("congruence", "REL agreement", "string", "aligned; protege_higher; mentor_higher"),
    ("position", "continuum position 100·(REL_dyad − 1)/6", "float", "0..100"),
    ("state", "continuum state", "string", "; ".join(STATES)),
    ("flags", "placement flags, ';'-separated", "string", ""),
    ("change", "REL_dyad change since the previous placed wave", "float", ""),
    (
        "transition",
        "state change since the previous placed wave",
        "string",
        "first; up; down; same",
    ),
    ("rule_version", "scoring rule and constants version", "string", "continuum-v1[+hash]"),
]


def _fixed_columns() -> list[tuple[str, str, str, str]]:
    scores = [
        (f"{x}_{side}", f"{x} score, {side}", "float", "scale units")
        for x in SCORES
        for side in SIDES
    ]
    battery = [(x, f"{x} battery score", "float", "scale units") for x in SCORES]
    pair = [
        (f"{x}_{who}", f"{x} of the {'actor' if who == 'A' else 'partner'}", "float", "")
        for x in PAIRWISE_SCORES
        for who in ("A", "P")
    ]
    return [*FIXED, *scores, *battery, *pair]


def _files_with(column: str) -> list[str]:
    files = {
        "long": LONG_COLUMNS,
        "respondent": [*RESPONDENT_ID_COLUMNS, *RESPONDENT_TAIL_COLUMNS],
        "dyad": DYAD_COLUMNS,
        "pairwise": PAIRWISE_COLUMNS,
    }
    return [name for name, columns in files.items() if column in columns]


README = """Continuum research export
=========================

long.csv        one row per answer of a submitted response (raw values, before reverse keying)
respondent.csv  one row per submitted response: raw items, subscale and battery scores
dyad.csv        one row per dyad and wave with a submission: both partners' scores,
                dyad level and difference, placement state, flags and change
pairwise.csv    one row per submitted response with the partner's scores beside the
                actor's, for actor-partner models
codebook.csv    one row per column of the files above, with item wordings (in the
                instrument's first language, then one pair of columns per other
                language it carries: item_text_mentor_es, item_text_protege_es, ...)
respondent.sav, dyad.sav
                the respondent and dyad files for SPSS, with variable and value labels
                from the codebook
respondent.dta, dyad.dta
                the same for Stata
read_cohort.R   reads the CSV files into R data frames, typed and labelled from the
                codebook (base R only): source("read_cohort.R"); read_cohort(".")

People and dyads appear only as research codes. Numbers use a dot as decimal separator;
missing values are empty cells. Cells that a spreadsheet would read as a formula start
with an apostrophe. The respondent, dyad and pairwise files of one export are scored
under the same rule and constants, named in their column rule_version. The long and
respondent files end with language: the code of the language each response was
answered in (en, es, fr, ...); scores never depend on it.

In the .sav and .dta files a variable is named as its CSV column with '-' made '_'
(REL-LG-1 is REL_LG_1); role, state, congruence and transition are numbered 1, 2, ...
in the order the codebook lists their values, which are the value labels.
"""
