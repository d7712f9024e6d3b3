"""The research files through PostgreSQL ``COPY (SELECT …) TO STDOUT`` (DESIGN §8, §10).

The portable paths (``selectors`` + ``files`` + ``files.csv_chunks``) reach a quarter of
COPY's throughput or less; these reach most of it, writing the same bytes
(tests/research/test_pgcopy.py compares every file). PostgreSQL formats, quotes and
neutralises the cells: numbers with ``to_char``, which rounds exactly as Python's
``f"{x:.4f}"`` does (both print the double's exact value rounded half to even), text
through ``_neutralised``, the twin of ``cells.neutralise``. The scored files read the
stored results, which ``services.results_refresh`` has brought up to the constants the
portable path scores with, so their numbers are the same doubles.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator, Sequence

from django.db import connection

from relationships.models import Cohort

from .. import cells
from ..measurement.rules import BATTERIES, SCORE_COLUMNS
from ..models import DyadWaveResult
from .files import SIDES


def long_copy(*, cohort: Cohort) -> Iterator[str]:
    """The long file's data rows (CSV, CRLF), as ``selectors.long_records`` +
    ``files.long_rows`` + ``files.csv_chunks`` write them."""
    head = _head(cohort)
    return copy_csv(LONG_COPY_SQL, [cohort.pk, cohort.pk, *head])


def dyad_copy(*, cohort: Cohort) -> Iterator[str]:
    """The dyad file's data rows, as ``selectors.dyad_records`` + ``files.dyad_rows`` write
    them: stored results with a submission, by wave and dyad code."""
    return copy_csv(DYAD_COPY_SQL, [cohort.pk, *_head(cohort), cohort.pk])


def pairwise_copy(*, cohort: Cohort, rule_version: str) -> Iterator[str]:
    """The pairwise file's data rows: each submitted response with its own (A) and its
    partner's (P) stored battery scores, as ``files.pairwise_rows`` writes them."""
    params = [*_head(cohort), cells.neutralise(rule_version), cohort.pk]
    return copy_csv(PAIRWISE_COPY_SQL, params)


def respondent_copy(
    *, cohort: Cohort, positions: Sequence[tuple[int, int]], item_codes: int,
    subscales: Sequence[str], rule_version: str,
) -> Iterator[str]:  # fmt: skip
    """The respondent file's data rows, as ``files.respondent_rows`` writes them.

    ``positions`` maps each item id (of every instrument version answered) to its column,
    1 … ``item_codes``; ``subscales`` are the subscale columns, read from the stored
    results of the respondent's side.
    """
    first, columns = column_lookup(positions)
    sql = respondent_sql(first, item_codes, subscales)
    params = [cohort.pk, *_head(cohort), cells.neutralise(rule_version), columns, columns]
    return copy_csv(sql, [*params, *subscales])


def column_lookup(positions: Sequence[tuple[int, int]]) -> tuple[int, list[int | None]]:
    """The smallest item id, and each item's column by ``item id - smallest + 1`` (None
    for ids between that no column has): an array PostgreSQL indexes in place of a join."""
    if not positions:
        return 1, []
    first = min(item for item, _ in positions)
    columns: list[int | None] = [None] * (max(item for item, _ in positions) - first + 1)
    for item, column in positions:
        columns[item - first] = column
    return first, columns


def _head(cohort: Cohort) -> list[str]:
    return [cells.neutralise(cohort.program.slug), cells.neutralise(cohort.slug)]


def copy_csv(query: str, params: Sequence) -> Iterator[str]:
    """Rows of ``COPY (query) TO STDOUT WITH (FORMAT csv)`` in blocks, CRLF line ends.

    psycopg2 can only copy into a file object, so the copy runs in a worker thread that
    hands blocks of about ``COPY_BLOCK`` characters over a short queue; memory stays
    flat and a reader that stops early cancels the copy. Codes never hold line breaks
    (imports and instruments refuse them), so every newline PostgreSQL writes ends a row.
    """
    with connection.cursor() as cursor:
        raw = cursor.cursor
        sql = raw.mogrify(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", list(params)).decode()
        pipe = _CopyPipe()
        worker = threading.Thread(target=pipe.fill, args=(raw, sql), daemon=True)
        worker.start()
        try:
            while (block := pipe.blocks.get()) is not _CopyPipe.END:
                if isinstance(block, BaseException):
                    raise block
                yield block
        finally:
            pipe.stop(raw.connection)
            worker.join()


def _neutralised(column: str) -> str:
    """SQL twin of ``cells.neutralise`` for a text column (``=``, ``+``, ``-``, ``@``,
    tab and carriage return by their code points: cheaper than cutting a string)."""
    starts = "(61, 43, 45, 64, 9, 13)"
    return (
        f"CASE WHEN ascii({column}) IN {starts} AND {column} !~ '^{cells.NUMBER}$' "
        f"THEN '''' || {column} ELSE {column} END"
    )


# Responses and items are formatted once each (21 k and 54 rows in a 2,000-dyad cohort),
# then joined to the answers; ordering by the two ranks lets PostgreSQL sort narrow keys.
LONG_COPY_SQL = f"""
    WITH resp AS MATERIALIZED (
        SELECT r.id, w.number AS wave, {_neutralised("d.research_code")} AS dyad,
               {_neutralised("p.research_code")} AS respondent, r.role,
               {_neutralised("ins.code")} AS instrument, ins.version,
               to_char(r.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at,
               {_neutralised("r.language")} AS language,
               row_number() OVER (ORDER BY w.number, d.research_code, r.role) AS rank
        FROM assessments_response r
        JOIN assessments_wave w ON w.id = r.wave_id
        JOIN assessments_instrument ins ON ins.id = w.instrument_id
        JOIN relationships_dyad d ON d.id = r.dyad_id
        JOIN relationships_participant p ON p.id = r.respondent_id
        WHERE w.cohort_id = %s AND r.status = 'submitted'
    ), item AS MATERIALIZED (
        SELECT i.id, {_neutralised("i.code")} AS code, {_neutralised("b.code")} AS battery,
               {_neutralised("s.code")} AS subscale,
               CASE WHEN i.reverse_keyed THEN 'true' ELSE 'false' END AS reverse_keyed,
               row_number() OVER (ORDER BY b."order", s."order", i."order", i.id) AS rank
        FROM assessments_item i
        JOIN assessments_subscale s ON s.id = i.subscale_id
        JOIN assessments_battery b ON b.id = s.battery_id
        WHERE b.instrument_id IN (
            SELECT instrument_id FROM assessments_wave WHERE cohort_id = %s
        )
    )
    SELECT %s, %s, resp.wave, resp.dyad, resp.respondent, resp.role, resp.instrument,
           resp.version, item.code, item.battery, item.subscale, item.reverse_keyed,
           a.value, resp.at, NULLIF(resp.language, '')
    FROM assessments_answer a
    JOIN resp ON resp.id = a.response_id
    JOIN item ON item.id = a.item_id
    ORDER BY resp.rank, item.rank"""


def _number(column: str, scaled: str | None = None) -> str:
    """SQL twin of ``files.number``: four decimals, empty when missing.

    Python prints the double's exact value rounded half to even. Away from a tie that is
    ``round(x * 10000)`` (the product's error is far below the distance to the tie),
    printed as a numeric of scale 4: a third of the time of ``to_char``. Near a tie
    ``to_char`` decides, which prints the exact value as Python does; a value that
    rounds to zero from below, or a negative zero, keeps its minus sign as in Python.
    ``scaled`` names that rounded product when the query computes it once (``_scaled``).
    """
    scaled = scaled or f"round({column} * 10000)::bigint"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL "
        f"WHEN abs({column} * 10000 - {scaled}) > 0.4999999 "
        f"THEN to_char({column}, 'FM999999990.0000') "
        f"WHEN {scaled} = 0 AND ({column} < 0 OR {column}::text = '-0') THEN '-0.0000' "
        f"ELSE ({scaled}::numeric * 0.0001)::text END"
    )


def _scaled(columns: Sequence[str], alias: str) -> str:
    """A lateral subquery ``alias`` with ``round(c * 10000)`` of each column ``c`` (named
    as the column after its last dot), so ``_number`` computes it once a cell."""
    rounded = ", ".join(f"round({c} * 10000)::bigint AS {c.rsplit('.', 1)[-1]}" for c in columns)
    return f"CROSS JOIN LATERAL (SELECT {rounded}) {alias}"


def _numbers(columns: Sequence[str], alias: str) -> str:
    return ", ".join(_number(c, f"{alias}.{c.rsplit('.', 1)[-1]}") for c in columns)


def _text(column: str) -> str:
    """A text cell that Python writes empty when blank: NULL, since COPY writes an empty
    string as ``""``."""
    return f"NULLIF({column}, '')"


_TABLES = {
    "answer": "assessments_answer", "response": "assessments_response",
    "wave": "assessments_wave", "dyad": "relationships_dyad",
    "participant": "relationships_participant", "result": DyadWaveResult._meta.db_table,
}  # fmt: skip
_FLAGS = ", ".join(
    f"CASE WHEN r.{flag} THEN '{flag}' END" for flag in sorted(DyadWaveResult.FLAG_FIELDS)
)
_DYAD_NUMBERS = [f"r.{x.lower()}_{side}" for x in SCORE_COLUMNS for side in SIDES]
_DYAD_NUMBERS += ["r.cn_gap", "r.position", "r.change"]

DYAD_COPY_SQL = f"""
    WITH answered AS (
        SELECT s.dyad_id, bool_or(s.role = 'mentor') AS mentor,
               bool_or(s.role = 'protege') AS protege
        FROM {_TABLES["response"]} s
        JOIN {_TABLES["wave"]} sw ON sw.id = s.wave_id
        WHERE sw.cohort_id = %s AND s.status = 'submitted'
        GROUP BY s.dyad_id
    )
    SELECT %s, %s, w.number, {_neutralised("d.research_code")},
           CASE WHEN a.mentor THEN {_neutralised("pm.research_code")} END,
           CASE WHEN a.protege THEN {_neutralised("pp.research_code")} END,
           {_numbers(_DYAD_NUMBERS[:-3], "n")}, {_number("r.cn_gap", "n.cn_gap")},
           {_text("r.congruence")}, {_number("r.position", "n.position")}, r.state,
           {_text(f"concat_ws(';', {_FLAGS})")}, {_number("r.change", "n.change")},
           {_text("r.transition")}, {_neutralised("r.rule_version")}
    FROM {_TABLES["result"]} r
    JOIN {_TABLES["wave"]} w ON w.id = r.wave_id
    JOIN {_TABLES["dyad"]} d ON d.id = r.dyad_id
    JOIN {_TABLES["participant"]} pm ON pm.id = d.mentor_id
    JOIN {_TABLES["participant"]} pp ON pp.id = d.protege_id
    LEFT JOIN answered a ON a.dyad_id = r.dyad_id
    {_scaled(_DYAD_NUMBERS, "n")}
    WHERE w.cohort_id = %s AND (r.mentor_submitted OR r.protege_submitted)
    ORDER BY w.number, d.research_code"""


def _side(column: str, own: bool = True) -> str:
    """The stored ``<column>_mentor`` or ``_protege`` of the respondent's side (``own``)
    or of the partner's."""
    first, second = ("mentor", "protege") if own else ("protege", "mentor")
    return f"CASE WHEN resp.role = 'mentor' THEN r.{column}_{first} ELSE r.{column}_{second} END"


# Submitted responses with their codes and time, formatted once each, ranked in file order.
_RESPONSES = f"""
    resp AS MATERIALIZED (
        SELECT s.id, s.dyad_id, s.wave_id, w.number AS wave, s.role,
               {_neutralised("d.research_code")} AS dyad,
               {_neutralised("p.research_code")} AS respondent,
               to_char(s.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at,
               {_neutralised("s.language")} AS language,
               row_number() OVER (ORDER BY w.number, d.research_code, s.role) AS rank
        FROM {_TABLES["response"]} s
        JOIN {_TABLES["wave"]} w ON w.id = s.wave_id
        JOIN {_TABLES["dyad"]} d ON d.id = s.dyad_id
        JOIN {_TABLES["participant"]} p ON p.id = s.respondent_id
        WHERE w.cohort_id = %s AND s.status = 'submitted'
    )"""

_PAIRWISE_SIDES = ", ".join(
    f"{_side(x.lower(), own)} AS {x.lower()}_{'a' if own else 'p'}"
    for x in BATTERIES
    for own in (True, False)
)
_PAIRWISE_COLUMNS = [f"pair.{x.lower()}_{side}" for x in BATTERIES for side in ("a", "p")]
_PAIRWISE_SCORES = _numbers(_PAIRWISE_COLUMNS, "n")
PAIRWISE_COPY_SQL = f"""
    SELECT %s, %s, w.number, {_neutralised("d.research_code")},
           {_neutralised("p.research_code")}, resp.role, {_PAIRWISE_SCORES}, %s
    FROM {_TABLES["response"]} resp
    JOIN {_TABLES["wave"]} w ON w.id = resp.wave_id
    JOIN {_TABLES["dyad"]} d ON d.id = resp.dyad_id
    JOIN {_TABLES["participant"]} p ON p.id = resp.respondent_id
    LEFT JOIN {_TABLES["result"]} r ON r.dyad_id = resp.dyad_id AND r.wave_id = resp.wave_id
    CROSS JOIN LATERAL (SELECT {_PAIRWISE_SIDES}) pair
    {_scaled(_PAIRWISE_COLUMNS, "n")}
    WHERE w.cohort_id = %s AND resp.status = 'submitted'
    ORDER BY w.number, d.research_code, resp.role"""


def respondent_sql(first: int, columns: int, subscales: Sequence[str]) -> str:
    """The respondent file's query for items numbered from id ``first`` (the column of
    each, ``column_lookup``, is passed twice as an ``int[]`` parameter), ``columns`` raw
    answer columns and the ``subscales`` (passed as parameters, in order).

    Each response's answers are gathered into one array in column order, by a lookup per
    response on the answers' (response, item) index: sorting the cohort's millions of
    answers to group them took more than half the export. A response that does not
    answer every column (another instrument version, an imported file with skipped
    items) has its answers placed column by column instead. ``OFFSET 0`` keeps each
    lateral subquery a step of its own, so that its values are computed once a row, not
    again wherever a later expression names them (each score is named four times by
    ``_number``, and each subscale reads the stored JSON).
    """
    column = f"(%s::int[])[a.item_id - {int(first) - 1}]"
    raw = ", ".join(f"raw.v[{i}]" for i in range(1, columns + 1))
    own = [f"(side.scores ->> %s)::float8 AS s{i}" for i in range(len(subscales))]
    own += [f"{_side(x.lower())} AS {x.lower()}" for x in SCORE_COLUMNS]
    scores = [f"own.s{i}" for i in range(len(subscales))]
    scores += [f"own.{x.lower()}" for x in SCORE_COLUMNS]
    numbers = _numbers(scores, "n")
    return f"""
    WITH {_RESPONSES}
    SELECT %s, %s, resp.wave, resp.dyad, resp.respondent, resp.role, resp.at,
           {raw}, {numbers}, %s, {_text("resp.language")}
    FROM resp
    CROSS JOIN LATERAL (
        SELECT array_agg(a.value ORDER BY {column}) AS v, count(*) AS n
        FROM {_TABLES["answer"]} a WHERE a.response_id = resp.id
    ) gathered
    CROSS JOIN LATERAL (
        SELECT CASE WHEN gathered.n = {columns} THEN gathered.v
               ELSE ARRAY(SELECT a.value FROM generate_series(1, {columns}) i
                          LEFT JOIN {_TABLES["answer"]} a
                          ON a.response_id = resp.id AND {column} = i ORDER BY i) END AS v
        OFFSET 0
    ) raw
    LEFT JOIN {_TABLES["result"]} r ON r.dyad_id = resp.dyad_id AND r.wave_id = resp.wave_id
    CROSS JOIN LATERAL (SELECT r.subscales -> resp.role AS scores OFFSET 0) side
    CROSS JOIN LATERAL (SELECT {", ".join(own)} OFFSET 0) own
    {_scaled(scores, "n")}
    ORDER BY resp.rank"""


COPY_BLOCK = 256 * 1024
SORT_MEMORY = "64MB"  # per export, for the one sort of its rows


class _CopyPipe(io.TextIOBase):
    """The file psycopg2 copies into: gathers rows into blocks for the reading thread."""

    END = object()

    def __init__(self) -> None:
        self.blocks: queue.Queue = queue.Queue(maxsize=4)
        self.parts: list[str] = []
        self.size = 0
        self.stopped = threading.Event()
        self.copying = threading.Event()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not self.stopped.is_set():
            self.parts.append(text)
            self.size += len(text)
            if self.size >= COPY_BLOCK:
                self._hand_over()
        return len(text)

    def fill(self, raw_cursor, sql: str) -> None:
        """Worker thread: run the copy, then hand over the rest and the end (or the error)."""
        self.copying.set()
        try:
            # JIT compiling this query costs more (0.7 s) than it saves: it sorts and copies.
            # The sort of a scored file's formatted rows (15 MB for 60,000 dyad rows)
            # spilled to disk with the default work_mem and took a third of the copy.
            raw_cursor.execute(f"SET jit = off; SET work_mem = '{SORT_MEMORY}'")
            raw_cursor.copy_expert(sql, self)
            self.copying.clear()
            raw_cursor.execute("RESET jit; RESET work_mem")
            self._hand_over()
            self._put(self.END)
        except BaseException as error:  # re-raised in the reading thread
            self.copying.clear()
            self._put(error)

    def stop(self, raw_connection) -> None:
        """The reader is done or gone: let the worker finish, cancelling a running copy."""
        self.stopped.set()
        if self.copying.is_set():
            raw_connection.cancel()

    def _hand_over(self) -> None:
        if self.parts:
            block = "".join(self.parts).replace("\n", "\r\n")
            self.parts, self.size = [], 0
            self._put(block)

    def _put(self, item) -> None:
        while not self.stopped.is_set():
            try:
                self.blocks.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
