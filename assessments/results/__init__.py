"""Storing continuum results: one statement writes every DyadWaveResult of a run.

In SQLite the rows travel as one JSON document unpacked by ``json_each`` inside a single
INSERT … ON CONFLICT upsert. In PostgreSQL a few rows (a submit) do the same through
``json_populate_recordset``; many are copied (``COPY … FROM STDIN``) into a temporary
table first and upserted from there: parsing a JSON document of 57,000 results cost 6 s
of a 12 s write, the copy takes well under one. Either way the number
of statements does not depend on the cohort's size.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from ..measurement.rules import SCORE_COLUMNS
from ..models import DyadWaveResult

SIDES = ("mentor", "protege", "dyad", "diff")

# model field -> SQL type for PostgreSQL's recordset; order is the column order written.
COLUMNS: dict[str, str] = {
    "dyad_id": "bigint",
    "wave_id": "bigint",
    "mentor_submitted": "boolean",
    "protege_submitted": "boolean",
    **{f"{score.lower()}_{side}": "double precision" for score in SCORE_COLUMNS for side in SIDES},
    "subscales": "jsonb",
    "congruence": "text",
    "cn_gap": "double precision",
    "position": "double precision",
    "state": "text",
    "change": "double precision",
    "transition": "text",
    "transition_reliable": "boolean",
    **{flag: "boolean" for flag in DyadWaveResult.FLAG_FIELDS},
    "rule_version": "text",
    "constants": "jsonb",
    "computed_at": "timestamptz",
}
JSON_COLUMNS = {"subscales", "constants"}


def result_records(
    results: pd.DataFrame | list[dict[str, Any]],
    *,
    wave_ids: dict[int, int],
    constants: dict[str, Any],
) -> list[dict[str, Any]]:
    """Turn the ``pipeline.score(...).dyads`` frame (indexed by dyad, wave), or its rows
    as ``pipeline.score_dyad`` gives them, into rows to store."""
    rows = (
        results.reset_index().to_dict("records") if isinstance(results, pd.DataFrame) else results
    )
    columns = rows[0].keys() if rows else ()
    subscale_codes = sorted(
        {c.rsplit("_", 1)[0] for c in columns if "-" in c and c.endswith("_mentor")}
    )
    now = _timestamp()
    return [_record(row, subscale_codes, wave_ids, constants, now) for row in rows]


def _record(
    row: dict[str, Any], codes: list[str], wave_ids: dict[int, int], constants: dict, now: str
) -> dict[str, Any]:
    flags = set(row.get("flags") or ())
    return {
        "dyad_id": int(row["dyad"]),
        "wave_id": wave_ids[int(row["wave"])],
        "mentor_submitted": bool(row["mentor_submitted"]),
        "protege_submitted": bool(row["protege_submitted"]),
        **{
            f"{s.lower()}_{side}": _number(row.get(f"{s}_{side}"))
            for s in SCORE_COLUMNS
            for side in SIDES
        },
        "subscales": {
            side: {code: _number(row.get(f"{code}_{side}")) for code in codes}
            for side in ("mentor", "protege")
        },
        "congruence": row.get("congruence") or "",
        "cn_gap": _number(row.get("CN_gap")),
        "position": _number(row.get("position")),
        "state": row["state"],
        "change": _number(row.get("change")),
        "transition": row.get("transition") or "",
        "transition_reliable": bool(row.get("transition_reliable") or False),
        **{flag: flag in flags for flag in DyadWaveResult.FLAG_FIELDS},
        "rule_version": row["rule_version"],
        "constants": constants,
        "computed_at": now,
    }


def _timestamp() -> str:
    now = timezone.now()
    if connection.vendor == "postgresql":
        return now.isoformat()
    return str(connection.ops.adapt_datetimefield_value(now))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def results_upsert(records: list[dict[str, Any]]) -> None:
    """Insert or replace the results."""
    if not records:
        return
    table = DyadWaveResult._meta.db_table
    names = list(COLUMNS)
    quoted = ", ".join(f'"{n}"' for n in names)
    updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n not in ("dyad_id", "wave_id"))
    conflict = f'ON CONFLICT ("dyad_id", "wave_id") DO UPDATE SET {updates}'
    if connection.vendor == "postgresql":
        if len(records) > FEW:
            _upsert_copied(records, table, names, quoted, conflict)
        else:
            _upsert_json_postgresql(records, table, quoted, conflict)
        return
    select = ", ".join(_sqlite_extract(n) for n in names)
    sql = (
        f'INSERT INTO "{table}" ({quoted}) SELECT {select} FROM json_each(%s) WHERE true {conflict}'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(records)])


FEW = 200  # results of a submit or a small import: one statement, no temporary table


def _upsert_json_postgresql(records, table: str, quoted: str, conflict: str) -> None:
    """A few results as one JSON document read by ``json_populate_recordset`` (typed as
    the table itself): a single statement, without the catalogue writes of a temporary
    table that a submit would otherwise pay."""
    sql = (
        f'INSERT INTO "{table}" ({quoted}) SELECT {quoted} '
        f'FROM json_populate_recordset(NULL::"{table}", %s) {conflict}'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(records)])


SHARED = ("constants", "computed_at")  # the same in every record of one run


def _upsert_copied(records, table: str, names: list[str], quoted: str, conflict: str) -> None:
    """COPY the per-result columns into a temporary table, then upsert from it; the
    constants and the time, shared by the whole run, travel once as parameters."""
    own = [n for n in names if n not in SHARED]
    own_quoted = ", ".join(f'"{n}"' for n in own)
    columns = ", ".join(f'"{n}" {COLUMNS[n]}' for n in own)
    shared = ", ".join(f"%s::{COLUMNS[n]}" for n in SHARED)
    first = records[0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE result_load ({columns}) ON COMMIT DROP")
        cursor.cursor.copy_expert(
            f"COPY result_load ({own_quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
            _csv(records, own),
        )
        cursor.execute(
            f'INSERT INTO "{table}" ({own_quoted}, {", ".join(SHARED)}) '
            f"SELECT {own_quoted}, {shared} FROM result_load {conflict}",
            [json.dumps(first["constants"]), first["computed_at"]],
        )
        cursor.execute("DROP TABLE result_load")  # inside an outer transaction as well


def _csv(records: list[dict[str, Any]], names: list[str]) -> io.StringIO:
    """The records as CSV for COPY: ``\\N`` for NULL, JSON columns as JSON text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for record in records:
        writer.writerow([_cell(record[n], n in JSON_COLUMNS) for n in names])
    buffer.seek(0)
    return buffer


def _cell(value: Any, is_json: bool) -> Any:
    if is_json:
        return json.dumps(value)
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return value


def _sqlite_extract(name: str) -> str:
    path = f"json_extract(value, '$.{name}')"
    return f"json({path})" if name in JSON_COLUMNS else path
