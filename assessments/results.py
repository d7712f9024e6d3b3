"""Storing continuum results: one statement writes every DyadWaveResult of a run.

The rows travel as one JSON document and the database unpacks it (``json_each`` in
SQLite, ``jsonb_to_recordset`` in PostgreSQL) inside a single INSERT … ON CONFLICT
upsert, so a whole cohort is written with one query whatever its size.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
from django.db import connection
from django.utils import timezone

from .models import DyadWaveResult

SCORES = ("REL", "CAR", "PSY", "STR", "OVR", "KRAM")
SIDES = ("mentor", "protege", "dyad", "diff")

# model field -> SQL type for PostgreSQL's recordset; order is the column order written.
COLUMNS: dict[str, str] = {
    "dyad_id": "bigint",
    "wave_id": "bigint",
    "mentor_submitted": "boolean",
    "protege_submitted": "boolean",
    **{f"{score.lower()}_{side}": "double precision" for score in SCORES for side in SIDES},
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
    results: pd.DataFrame, *, wave_ids: dict[int, int], constants: dict[str, Any]
) -> list[dict[str, Any]]:
    """Turn the ``continuum.compute`` frame (indexed by dyad, wave number) into rows."""
    frame = results.reset_index()
    subscale_codes = sorted(
        {c.rsplit("_", 1)[0] for c in frame.columns if "-" in c and c.endswith("_mentor")}
    )
    now = _timestamp()
    records = []
    for row in frame.to_dict("records"):
        flags = set(row.get("flags") or ())
        record = {
            "dyad_id": int(row["dyad"]),
            "wave_id": wave_ids[int(row["wave"])],
            "mentor_submitted": bool(row["mentor_submitted"]),
            "protege_submitted": bool(row["protege_submitted"]),
            **{
                f"{s.lower()}_{side}": _number(row.get(f"{s}_{side}"))
                for s in SCORES
                for side in SIDES
            },
            "subscales": {
                side: {code: _number(row.get(f"{code}_{side}")) for code in subscale_codes}
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
        records.append(record)
    return records


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
    """Insert or replace the results in one statement."""
    if not records:
        return
    table = DyadWaveResult._meta.db_table
    names = list(COLUMNS)
    updates = ", ".join(f'"{n}" = excluded."{n}"' for n in names if n not in ("dyad_id", "wave_id"))
    if connection.vendor == "postgresql":
        source = (
            "jsonb_to_recordset(%s::jsonb) AS r("
            + ", ".join(f'"{n}" {COLUMNS[n]}' for n in names)
            + ")"
        )
        select = ", ".join(f'r."{n}"' for n in names)
    else:
        source = "json_each(%s)"
        select = ", ".join(_sqlite_extract(n) for n in names)
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = (
        f'INSERT INTO "{table}" ({quoted}) SELECT {select} FROM {source} WHERE true '
        f'ON CONFLICT ("dyad_id", "wave_id") DO UPDATE SET {updates}'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(records)])


def _sqlite_extract(name: str) -> str:
    path = f"json_extract(value, '$.{name}')"
    return f"json({path})" if name in JSON_COLUMNS else path
