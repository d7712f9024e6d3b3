"""The coordinator's dyad list as a CSV file: its columns and row writer.

Pure: plain records in, CSV text out; the database read is
``selectors.dyad_list.dyad_list_records`` and only the view touches HTTP. The file holds
what the dashboard shows a coordinator (names the program gave, scale scores, states,
flags), never an item answer. Every cell passes through ``cells.neutralise``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .. import cells
from ..measurement.rules import FLAGS, ROLES, SCORE_COLUMNS

ROWS_PER_CHUNK = 1000
SIDES = (*ROLES, "dyad")
# Stored result fields the file reads, beside the dyad's own (``DYAD_FIELDS``).
RESULT_FIELDS = (
    "mentor_submitted", "protege_submitted", "state", "position",
    *[f"{score.lower()}_{side}" for score in SCORE_COLUMNS for side in SIDES],
    "change", "transition", "transition_reliable", *FLAGS,
)  # fmt: skip
DYAD_FIELDS = ("research_code", "mentor_name", "protege_name", "is_active", "ended_on")
DYAD_LIST_COLUMNS = [
    "program", "cohort", "dyad", "mentor", "protege", "status", "ended_on", "wave",
    "wave_label", "mentor_submitted", "protege_submitted", "state", "position",
    *[f"{score}_{side}" for score in SCORE_COLUMNS for side in SIDES],
    "change", "transition", "reliable_change", "flags",
]  # fmt: skip


def number(value: Any, digits: int = 2) -> str:
    """A score with ``digits`` decimals; empty for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{float(value):.{digits}f}"


def _yes(value: Any) -> str:
    return "yes" if value else "no"


def dyad_list_rows(
    dyads: Iterable[tuple[Mapping[str, Any], Mapping[int, Mapping[str, Any]]]],
    waves: Sequence[tuple[int, int, str]],
    *,
    program: str,
    cohort: str,
) -> Iterator[list[Any]]:
    """Rows of ``DYAD_LIST_COLUMNS``: one per dyad × wave at which the dyad is expected.

    ``dyads`` yields each dyad (``DYAD_FIELDS``) with its stored results by wave id
    (``RESULT_FIELDS``); ``waves`` are ``(id, number, label)`` in number order. A dyad is
    expected at a wave when it is active or someone in it submitted there, as on the
    dashboard; a wave without a stored result reads ``unplaced`` with nothing submitted.
    ``flags`` is a ``;``-separated sorted list of flag names, as in the research files.
    """
    for dyad, results in dyads:
        for wave_id, wave_number, label in waves:
            found = results.get(wave_id, {})
            submitted = found.get("mentor_submitted") or found.get("protege_submitted")
            if not (dyad["is_active"] or submitted):
                continue
            yield [
                program,
                cohort,
                dyad["research_code"],
                dyad["mentor_name"],
                dyad["protege_name"],
                "active" if dyad["is_active"] else "ended",
                dyad["ended_on"].isoformat() if dyad["ended_on"] else "",
                wave_number,
                label,
                *_result_cells(found),
            ]


def _result_cells(found: Mapping[str, Any]) -> list[Any]:
    scores = [
        number(found.get(f"{score.lower()}_{side}")) for score in SCORE_COLUMNS for side in SIDES
    ]
    return [
        _yes(found.get("mentor_submitted")),
        _yes(found.get("protege_submitted")),
        found.get("state") or "unplaced",
        number(found.get("position"), 1),
        *scores,
        number(found.get("change")),
        found.get("transition") or "",
        _yes(found.get("transition_reliable")),
        ";".join(sorted(name for name in FLAGS if found.get(name))),
    ]


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text in chunks of ``ROWS_PER_CHUNK`` rows (``cells.csv_chunks``)."""
    return cells.csv_chunks(header, rows, per_chunk=ROWS_PER_CHUNK)
