"""Reads behind the research files: chunked, ordered, research codes only."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd
from django.db import connection
from django.db.models import Case, CharField, Exists, F, OuterRef, Value, When

from relationships.models import Cohort

from . import cells, selectors
from .measurement import pipeline
from .models import Answer, DyadWaveResult, Item, Response

CHUNK = 2000
UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(UTC_FORMAT)


def long_records(*, cohort: Cohort) -> Iterator[tuple]:
    """Answers of submitted responses in ``exports.LONG_COLUMNS`` order, one query."""
    rows = (
        Answer.objects.filter(response__wave__cohort=cohort, response__status="submitted")
        .order_by(
            "response__wave__number",
            "response__dyad__research_code",
            "response__role",
            "item__subscale__battery__order",
            "item__subscale__order",
            "item__order",
        )
        .values_list(
            "response__wave__number",
            "response__dyad__research_code",
            "response__respondent__research_code",
            "response__role",
            "response__wave__instrument__code",
            "response__wave__instrument__version",
            "item__code",
            "item__subscale__battery__code",
            "item__subscale__code",
            "item__reverse_keyed",
            "value",
            "response__submitted_at",
        )
    )
    head = (cohort.program.slug, cohort.slug)
    for row in rows.iterator(chunk_size=CHUNK):
        yield (*head, *row[:11], _utc(row[11]))


def long_copy(*, cohort: Cohort) -> Iterator[str]:
    """The long file's data rows from PostgreSQL ``COPY (SELECT …) TO STDOUT`` (CSV, CRLF).

    Byte for byte what ``long_records`` + ``exports.long_rows`` + ``exports.csv_chunks``
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


DYADS_PER_FRAME = 500


def respondent_catalogue(*, cohort: Cohort) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Items of the instruments answered in the cohort, with item and subscale codes."""
    instruments = (
        Response.objects.submitted()
        .filter(wave__cohort=cohort)
        .order_by()
        .values_list("wave__instrument_id", flat=True)
        .distinct()
    )
    items = selectors.items_frame(instrument_ids=list(instruments))
    codes = list(dict.fromkeys(items["item"]))
    subscales = [s for s in dict.fromkeys(items["subscale"]) if "-" in s]
    return items, codes, subscales


def respondent_frames(*, cohort: Cohort, items: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """Scores and raw answers per submitted response, in (wave, dyad code, role) order.

    One frame per wave and ``DYADS_PER_FRAME`` dyads, so memory stays flat however big
    the cohort; both partners of a dyad are always in the same frame.
    """
    catalogue = items.drop_duplicates("item").drop(columns=["instrument", "item_id"])
    slices = (
        Response.objects.submitted()
        .filter(wave__cohort=cohort)
        .order_by("wave__number", "dyad__research_code")
        .values_list("wave__number", "dyad_id")
        .distinct()
    )
    for wave, pairs in itertools.groupby(slices.iterator(chunk_size=CHUNK), key=lambda p: p[0]):
        dyads = (dyad for _, dyad in pairs)
        while batch := list(itertools.islice(dyads, DYADS_PER_FRAME)):
            yield _respondent_frame(cohort, wave, batch, items, catalogue)


def _respondent_frame(
    cohort: Cohort, wave: int, dyad_ids: list[int], items: pd.DataFrame, catalogue
) -> pd.DataFrame:
    responses = selectors.responses_frame(cohort=cohort, dyad_ids=dyad_ids, wave=wave)
    answers = selectors.answers_frame(
        cohort=cohort, dyad_ids=dyad_ids, wave=wave, responses=responses, items=items
    )
    scores = pipeline.respondent_scores(
        answers, catalogue, responses.drop(columns="instrument"), cohort.program.constants
    )
    raw = answers.pivot(index="response", columns="item", values="value")
    codes = _response_codes(cohort, dyad_ids, wave)
    frame = scores.join(raw.add_suffix("#raw"), how="left").join(codes, how="left")
    frame = frame.reset_index().sort_values(["dyad_code", "role"])
    frame = frame.assign(program=cohort.program.slug, cohort=cohort.slug)
    frame["dyad"] = frame["dyad_code"]
    return frame


def _response_codes(cohort: Cohort, dyad_ids: list[int], wave: int) -> pd.DataFrame:
    rows = (
        Response.objects.submitted()
        .filter(wave__cohort=cohort, wave__number=wave, dyad_id__in=dyad_ids)
        .order_by()
        .values_list("id", "dyad__research_code", "respondent__research_code", "submitted_at")
    )
    frame = pd.DataFrame.from_records(
        [(pk, dyad, person, _utc(at)) for pk, dyad, person, at in rows],
        columns=["response", "dyad_code", "respondent", "submitted_at"],
    )
    return frame.set_index("response")


def dyad_records(*, cohort: Cohort) -> Iterator[dict[str, Any]]:
    """Stored results with at least one submission, ordered by wave and dyad code."""
    scores = {
        f"{x}_{side}": F(f"{x.lower()}_{side}")
        for x in ("REL", "CAR", "PSY", "STR", "OVR", "KRAM")
        for side in ("mentor", "protege", "dyad", "diff")
    }
    rows = (
        DyadWaveResult.objects.filter(wave__cohort=cohort)
        .exclude(mentor_submitted=False, protege_submitted=False)
        .order_by("wave__number", "dyad__research_code")
        .values(
            "state",
            "congruence",
            "position",
            "change",
            "transition",
            "rule_version",
            *DyadWaveResult.FLAG_FIELDS,
            wave_number=F("wave__number"),
            dyad_code=F("dyad__research_code"),
            mentor_code=_code_if_answered(cohort, "mentor"),
            protege_code=_code_if_answered(cohort, "protege"),
            cn=F("cn_gap"),
            **scores,
        )  # fmt: skip
    )
    for row in rows.iterator(chunk_size=CHUNK):
        yield {
            **row,
            "program": cohort.program.slug,
            "cohort": cohort.slug,
            "wave": row["wave_number"],
            "dyad": row["dyad_code"],
            "mentor": row["mentor_code"],
            "protege": row["protege_code"],
            "CN_gap": row["cn"],
            "flags": [f for f in DyadWaveResult.FLAG_FIELDS if row[f]],
        }


def _code_if_answered(cohort: Cohort, role: str):
    """The partner's research code, or empty when they submitted nothing in the cohort.

    Such a code links to no row of any research file; leaving it out also makes the
    dyad file survive an export, import, export round trip byte for byte, since the
    long file (answers only) cannot carry a person without answers.
    """
    answered = Response.objects.submitted().filter(
        wave__cohort=cohort, dyad=OuterRef("dyad"), role=role
    )
    return Case(
        When(Exists(answered), then=F(f"dyad__{role}__research_code")),
        default=Value(""),
        output_field=CharField(),
    )


def codebook_items(*, cohort: Cohort) -> pd.DataFrame:
    """Items of the instruments the cohort's waves use, with both wordings."""
    rows = (
        Item.objects.filter(subscale__battery__instrument__waves__cohort=cohort)
        .distinct()
        .order_by("subscale__battery__order", "subscale__order", "order")
        .values_list(
            "code",
            "text_mentor",
            "text_protege",
            "subscale__battery__code",
            "subscale__code",
            "reverse_keyed",
            "subscale__battery__scale_min",
            "subscale__battery__scale_max",
        )  # fmt: skip
    )
    columns = ["item", "text_mentor", "text_protege", "battery", "subscale", "reverse_keyed",
               "scale_min", "scale_max"]  # fmt: skip
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    return frame.drop_duplicates("item")
