"""A cohort's counts and open alerts computed by the database, for ``aggregates.rebuild``.

The same quantities as summing ``tallies.dyad_counts`` and ``tallies.dyad_alerts`` over
every dyad (tests/test_aggregates.py checks that they agree), as two set-based
statements: a cohort of 10,000 dyads is rebuilt in about a second instead of being
walked dyad by dyad in Python. The statements run on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection

from relationships.models import Dyad

from ..models import (
    AlertFollowUp,
    CohortCount,
    DyadWaveResult,
    OpenAlert,
    Response,
    Wave,
)
from . import tallies
from .tallies import WaveFacts

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Every dyad × wave of the cohort where the dyad is expected (active, or someone in it
# submitted there), a missing result read as unplaced with nothing submitted.
CELLS = """
    cells AS (
        SELECT d.id AS dyad_id, d.research_code AS code, w.id AS wave_id, w.number,
               COALESCE(r.state, 'unplaced') AS state,
               COALESCE(r.mentor_submitted, false) AS m,
               COALESCE(r.protege_submitted, false) AS p,
               COALESCE(r.transition, '') AS transition,
               COALESCE(r.strain_reported, false) AS strain,
               COALESCE(r.reliable_decline, false) AS decline,
               COALESCE(r.norms_incongruent, false) AS norms,
               r.rel_mentor AS x, r.rel_protege AS y
        FROM {dyad} d
        CROSS JOIN {wave} w
        LEFT JOIN {result} r ON r.dyad_id = d.id AND r.wave_id = w.id
        WHERE d.cohort_id = %(cohort)s AND w.cohort_id = %(cohort)s
          AND (d.is_active OR r.mentor_submitted OR r.protege_submitted)
    ),
    raised AS (
        SELECT dyad_id, code, wave_id, number, 'dysfunctional' AS reason FROM cells
            WHERE state = 'dysfunctional'
        UNION ALL SELECT dyad_id, code, wave_id, number, 'strain_reported' FROM cells
            WHERE strain
        UNION ALL SELECT dyad_id, code, wave_id, number, 'reliable_decline' FROM cells
            WHERE decline
        UNION ALL SELECT dyad_id, code, wave_id, number, 'downward_transition' FROM cells
            WHERE transition = 'down'
        UNION ALL SELECT dyad_id, code, wave_id, number, 'norms_incongruent' FROM cells
            WHERE norms
        UNION ALL SELECT dyad_id, code, wave_id, number, 'partner_missing' FROM cells
            WHERE NOT (m AND p)
    ),
    opened AS (
        SELECT * FROM raised a WHERE NOT EXISTS (
            SELECT 1 FROM {follow_up} f
            WHERE f.dyad_id = a.dyad_id AND f.wave_id = a.wave_id AND f.reason = a.reason
        )
    )"""

COUNTS = """
    INSERT INTO {count} (cohort_id, wave_id, kind, name, shard, n, total)
    WITH {cells}
    SELECT %(cohort)s, wave_id, kind, name, 0, n, total FROM (
        SELECT wave_id, 'state' AS kind, 'state:' || state AS name, count(*) AS n,
               0.0 AS total FROM cells GROUP BY wave_id, state
        UNION ALL SELECT wave_id, 'submitted', 'submitted:mentor', count(*), 0.0 FROM cells
            WHERE m GROUP BY wave_id
        UNION ALL SELECT wave_id, 'submitted', 'submitted:protege', count(*), 0.0 FROM cells
            WHERE p GROUP BY wave_id
        UNION ALL SELECT wave_id, 'submitted', 'submitted:both', count(*), 0.0 FROM cells
            WHERE m AND p GROUP BY wave_id
        UNION ALL SELECT wave_id, 'open', 'open:' || reason, count(*), 0.0 FROM opened
            GROUP BY wave_id, reason
        UNION ALL SELECT f.wave_id, 'followed', 'followed:' || f.reason, count(*), 0.0
            FROM {follow_up} f JOIN {dyad} d ON d.id = f.dyad_id
            JOIN {wave} w ON w.id = f.wave_id
            WHERE d.cohort_id = %(cohort)s AND w.cohort_id = %(cohort)s
            GROUP BY f.wave_id, f.reason
        UNION ALL SELECT a.wave_id, 'move',
               'move:' || b.wave_id || ':' || a.state || ':' || b.state, count(*), 0.0
            FROM cells a JOIN cells b ON b.dyad_id = a.dyad_id AND b.number > a.number
            GROUP BY a.wave_id, b.wave_id, a.state, b.state
        UNION ALL SELECT wave_id, 'bin',
               'bin:' || state || ':' || {bin_x} || ':' || {bin_y}, count(*), 0.0
            FROM cells WHERE x IS NOT NULL AND y IS NOT NULL
            GROUP BY wave_id, state, {bin_x}, {bin_y}
        UNION ALL SELECT wave_id, 'rel', 'rel:' || state || ':x', count(*), sum(x) FROM cells
            WHERE x IS NOT NULL AND y IS NOT NULL GROUP BY wave_id, state
        UNION ALL SELECT wave_id, 'rel', 'rel:' || state || ':y', count(*), sum(y) FROM cells
            WHERE x IS NOT NULL AND y IS NOT NULL GROUP BY wave_id, state
        UNION ALL SELECT wave_id, 'rel', 'rel:xx', count(*), sum(x * x) FROM cells
            WHERE x IS NOT NULL AND y IS NOT NULL GROUP BY wave_id
        UNION ALL SELECT wave_id, 'rel', 'rel:yy', count(*), sum(y * y) FROM cells
            WHERE x IS NOT NULL AND y IS NOT NULL GROUP BY wave_id
        UNION ALL SELECT wave_id, 'rel', 'rel:xy', count(*), sum(x * y) FROM cells
            WHERE x IS NOT NULL AND y IS NOT NULL GROUP BY wave_id
    ) counted"""

ALERTS = """
    INSERT INTO {alert} (cohort_id, dyad_id, wave_id, reason, timed, raised_at, raised_sort,
                         code, wave_number, "rank")
    WITH {cells}, times AS (
        SELECT s.dyad_id, s.wave_id, max(s.submitted_at) AS last FROM {response} s
        JOIN {wave} w ON w.id = s.wave_id
        WHERE w.cohort_id = %(cohort)s AND s.status = 'submitted'
        GROUP BY s.dyad_id, s.wave_id
    ), dated AS (
        SELECT o.*, CASE WHEN o.reason = 'partner_missing' THEN {window} ELSE t.last END
               AS raised_at
        FROM opened o LEFT JOIN times t ON t.dyad_id = o.dyad_id AND t.wave_id = o.wave_id
    )
    SELECT %(cohort)s, dyad_id, wave_id, reason, reason = 'partner_missing', raised_at,
           COALESCE(raised_at, %(epoch)s), code, number, {rank}
    FROM dated"""


def _tables() -> dict[str, str]:
    models = {
        "dyad": Dyad, "wave": Wave, "result": DyadWaveResult, "follow_up": AlertFollowUp,
        "count": CohortCount, "alert": OpenAlert, "response": Response,
    }  # fmt: skip
    return {name: f'"{model._meta.db_table}"' for name, model in models.items()}


def _bin(column: str) -> str:
    """``tallies.quarter`` in SQL: floor(4x + 1/2), in the same double arithmetic."""
    scaled = f"({column} * {tallies.BINS_PER_POINT} + 0.5)"
    if connection.vendor == "postgresql":
        return f"CAST(floor{scaled} AS bigint)"
    return f"CAST({scaled} AS INTEGER)"  # truncation = floor: REL is never negative


def _moment(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def rebuild_rows(cohort_id: int, waves: Sequence[WaveFacts], days_before: int) -> None:
    """Insert the cohort's counts (all in shard 0) and open alerts; the caller, inside a
    transaction, has deleted the old ones and holds the cohort's summary row."""
    tables = _tables()
    cells = CELLS.format(**tables)
    params: dict = {"cohort": cohort_id, "epoch": _moment(EPOCH)}
    windows = []
    for i, wave in enumerate(waves):
        params[f"w{i}"], params[f"c{i}"] = (
            wave.id,
            _moment(wave.closes_at - dt.timedelta(days=days_before)),
        )
        windows.append(f"WHEN %(w{i})s THEN %(c{i})s")
    window = f"CASE o.wave_id {' '.join(windows)} END" if windows else "NULL"
    rank = "CASE reason " + " ".join(
        f"WHEN '{reason}' THEN {rank}" for reason, rank in tallies.RANK.items()
    ) + " END"  # fmt: skip
    counts = COUNTS.format(cells=cells, bin_x=_bin("x"), bin_y=_bin("y"), **tables)
    alerts = ALERTS.format(cells=cells, window=window, rank=rank, **tables)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Compiling these plans took 5 s of a 6 s rebuild at 10,000 dyads; they scan,
            # hash and count once, which JIT does not speed up.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(counts, params)
        cursor.execute(alerts, params)
