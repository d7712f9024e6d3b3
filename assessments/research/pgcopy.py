"""The long file through PostgreSQL ``COPY (SELECT …) TO STDOUT`` (DESIGN §8, §10).

The portable path (``selectors.long_records`` + ``files.long_rows`` + ``files.csv_chunks``)
reaches about a quarter of COPY's throughput; this one reaches most of it, writing the
same bytes (tests/research/test_pgcopy.py compares them).
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator

from django.db import connection

from relationships.models import Cohort

from .. import cells


def long_copy(*, cohort: Cohort) -> Iterator[str]:
    """The long file's data rows from PostgreSQL ``COPY (SELECT …) TO STDOUT`` (CSV, CRLF).

    Byte for byte what ``selectors.long_records`` + ``files.long_rows`` + ``files.csv_chunks``
    write, at close to the speed of COPY itself: PostgreSQL formats, quotes and
    neutralises the cells. psycopg2 can only copy into a file object, so the copy runs
    in a worker thread that hands blocks of about ``COPY_BLOCK`` characters over a
    short queue; memory stays flat and a reader that stops early cancels the copy.
    Codes never hold line breaks (imports and instruments refuse them), so every
    newline PostgreSQL writes ends a row.
    """
    head = [cells.neutralise(cohort.program.slug), cells.neutralise(cohort.slug)]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        sql = raw.mogrify(LONG_COPY_SQL, [cohort.pk, cohort.pk, *head]).decode()
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
    """SQL twin of ``cells.neutralise`` for a text column."""
    starts = "('=', '+', '-', '@', chr(9), chr(13))"
    return (
        f"CASE WHEN left({column}, 1) IN {starts} AND {column} !~ '^{cells.NUMBER}$' "
        f"THEN '''' || {column} ELSE {column} END"
    )


# Responses and items are formatted once each (21 k and 54 rows in a 2,000-dyad cohort),
# then joined to the answers; ordering by the two ranks lets PostgreSQL sort narrow keys.
LONG_COPY_SQL = f"""COPY (
    WITH resp AS MATERIALIZED (
        SELECT r.id, w.number AS wave, {_neutralised("d.research_code")} AS dyad,
               {_neutralised("p.research_code")} AS respondent, r.role,
               {_neutralised("ins.code")} AS instrument, ins.version,
               to_char(r.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at,
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
           a.value, resp.at
    FROM assessments_answer a
    JOIN resp ON resp.id = a.response_id
    JOIN item ON item.id = a.item_id
    ORDER BY resp.rank, item.rank
) TO STDOUT WITH (FORMAT csv)"""

COPY_BLOCK = 256 * 1024


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
            raw_cursor.execute("SET jit = off")
            raw_cursor.copy_expert(sql, self)
            self.copying.clear()
            raw_cursor.execute("RESET jit")
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
