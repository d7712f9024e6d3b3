"""Reads of the assessments app: each returns a DataFrame built from one query.

These frames feed the pure ``measurement`` package, charts and research files, so
pages, commands and exports share one definition of each read.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

import pandas as pd
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from relationships.models import Cohort, Dyad

from .measurement.rules import ANSWERS_COLUMNS, ITEMS_COLUMNS, RESPONSES_COLUMNS
from .measurement.single import Item as CatalogueItem
from .measurement.single import Submitted
from .models import Answer, Item, Response, Wave

ANSWER_CHUNK = 20_000


def items_frame(*, instrument_ids: Iterable[int]) -> pd.DataFrame:
    """Item catalogue of the instruments: ``ITEMS_COLUMNS`` plus ``instrument`` and ``item_id``."""
    items = Item.objects.filter(subscale__battery__instrument__in=list(instrument_ids))
    rows = items.order_by("subscale__battery__order", "subscale__order", "order").values_list(
        "code",
        "subscale__battery__code",
        "subscale__code",
        "reverse_keyed",
        "subscale__battery__scale_min",
        "subscale__battery__scale_max",
        "subscale__battery__instrument_id",
        "id",
    )
    columns = [*ITEMS_COLUMNS, "instrument", "item_id"]
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    return frame.astype({"reverse_keyed": bool, "scale_min": int, "scale_max": int})


def _submitted(
    cohort: Cohort, dyad_ids: list[int] | None, wave: int | None = None
) -> QuerySet[Response]:
    responses = Response.objects.submitted().filter(wave__cohort=cohort)
    if wave is not None:
        responses = responses.filter(wave__number=wave)
    return responses if dyad_ids is None else responses.filter(dyad_id__in=dyad_ids)


def responses_frame(
    *, cohort: Cohort, dyad_ids: list[int] | None = None, wave: int | None = None
) -> pd.DataFrame:
    """Submitted responses (of some dyads, of one wave number): ``RESPONSES_COLUMNS`` plus
    the wave's ``instrument``."""
    rows = (
        _submitted(cohort, dyad_ids, wave)
        .order_by()
        .values_list("id", "dyad_id", "wave__number", "role", "wave__instrument_id")
    )
    return pd.DataFrame.from_records(list(rows), columns=[*RESPONSES_COLUMNS, "instrument"])


def answers_frame(
    *,
    cohort: Cohort,
    dyad_ids: list[int] | None = None,
    wave: int | None = None,
    responses: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Stored answers of submitted responses (``ANSWERS_COLUMNS``).

    The answer rows are read in one query of bare ids and values; dyad, wave, role and
    item code are joined in pandas from ``responses`` and ``items`` (read here when not
    given). ``value`` is float with NaN for "not applicable"; ``progress`` is called with
    the number of rows read after each chunk.
    """
    if responses is None:
        responses = responses_frame(cohort=cohort, dyad_ids=dyad_ids, wave=wave)
    if items is None:
        items = items_frame(instrument_ids=responses["instrument"].unique().tolist())
    # order_by(): the models' default orderings would join half the schema.
    rows = (
        Answer.objects.filter(response__in=_submitted(cohort, dyad_ids, wave))
        .order_by()
        .values_list("response_id", "item_id", "value")
    )
    if connection.vendor == "postgresql":
        raw = _copied_answers(rows)
        if progress is not None:
            progress(len(raw))
    else:
        records: list[tuple] = []
        for row in rows.iterator(chunk_size=ANSWER_CHUNK):
            records.append(row)
            if progress is not None and len(records) % ANSWER_CHUNK == 0:
                progress(ANSWER_CHUNK)
        if progress is not None:
            progress(len(records) % ANSWER_CHUNK)
        raw = pd.DataFrame.from_records(records, columns=["response", "item_id", "value"])
    frame = raw.merge(responses[RESPONSES_COLUMNS], on="response").merge(
        items[["item_id", "item"]], on="item_id"
    )
    return frame[ANSWERS_COLUMNS].astype({"value": float})


def _copied_answers(rows: QuerySet) -> pd.DataFrame:
    """PostgreSQL: the answer rows through ``COPY … TO STDOUT`` and pandas' CSV reader.

    Four times faster than fetching 5 million tuples, and a fraction of their memory.
    """
    sql, params = rows.query.sql_with_params()
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        query = cursor.cursor.mogrify(sql, params).decode()
        cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
    buffer.seek(0)
    return pd.read_csv(
        buffer,
        names=["response", "item_id", "value"],
        dtype={"response": "int64", "item_id": "int64", "value": "float64"},
    )


def scoring_frames(
    *,
    cohort: Cohort,
    dyad_ids: list[int] | None = None,
    wave: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``answers, items, responses`` of submitted responses, as ``pipeline.score`` takes
    them: ``items`` and ``responses`` carry ``instrument`` so that every response is
    scored against its own wave's instrument version."""
    responses = responses_frame(cohort=cohort, dyad_ids=dyad_ids, wave=wave)
    items = items_frame(instrument_ids=responses["instrument"].unique().tolist())
    answers = answers_frame(
        cohort=cohort,
        dyad_ids=dyad_ids,
        wave=wave,
        responses=responses,
        items=items,
        progress=progress,
    )
    return answers, items, responses


def expected_pairs(*, cohort: Cohort, dyad_ids: list[int] | None = None) -> pd.DataFrame:
    """Every dyad × opened wave that should carry a result: columns ``dyad, wave, wave_id``."""
    dyads = Dyad.objects.filter(cohort=cohort)
    if dyad_ids is not None:
        dyads = dyads.filter(pk__in=dyad_ids)
    waves = Wave.objects.filter(cohort=cohort, opens_at__lte=timezone.now())
    dyad_frame = pd.DataFrame({"dyad": list(dyads.order_by().values_list("pk", flat=True))})
    wave_frame = pd.DataFrame.from_records(
        list(waves.order_by().values_list("number", "pk")), columns=["wave", "wave_id"]
    )
    return dyad_frame.merge(wave_frame, how="cross")


def dyad_scoring_facts(
    *, cohort: Cohort, dyad_id: int, waves: dict[int, int] | None = None
) -> tuple[list[Submitted], dict[int, list[CatalogueItem]], dict[int, int]]:
    """One dyad's submitted responses with their answers, the catalogues of their
    instruments, and the cohort's opened waves (number -> id), as ``pipeline.score_dyad``
    takes them: four small queries, no frames, and plain SQL for the three a submit
    would otherwise spend more time building than running. ``waves`` are the opened
    waves when the caller has read them."""
    if waves is None:
        opened = Wave.objects.filter(cohort=cohort, opens_at__lte=timezone.now()).order_by()
        waves = dict(opened.values_list("number", "pk"))
    with connection.cursor() as cursor:
        cursor.execute(_RESPONSES_SQL, [cohort.pk, dyad_id])
        rows = cursor.fetchall()
        catalogues, codes = _catalogues(cursor, sorted({row[3] for row in rows}))
        answers: dict[int, dict[str, float | None]] = {row[0]: {} for row in rows}
        if answers:
            marks = ", ".join(["%s"] * len(answers))
            cursor.execute(_ANSWERS_SQL.format(marks=marks), list(answers))
            for response, item, value in cursor.fetchall():
                answers[response][codes.get(item, f"#{item}")] = value
    responses = [Submitted(wave, role, ins, answers[pk]) for pk, wave, role, ins in rows]
    return responses, catalogues, waves


def _catalogues(cursor, instruments: list[int]) -> tuple[dict, dict[int, str]]:
    """Each instrument's items in catalogue order, and every item's code by id."""
    catalogues: dict[int, list[CatalogueItem]] = {}
    codes: dict[int, str] = {}
    if not instruments:
        return catalogues, codes
    cursor.execute(_ITEMS_SQL.format(marks=", ".join(["%s"] * len(instruments))), instruments)
    for pk, instrument, code, battery, subscale, reverse, low, high in cursor.fetchall():
        catalogues.setdefault(instrument, []).append(
            CatalogueItem(code, battery, subscale, bool(reverse), float(low), float(high))
        )
        codes[pk] = code
    return catalogues, codes


_RESPONSES_SQL = f"""
    SELECT s.id, w.number, s.role, w.instrument_id FROM "{Response._meta.db_table}" s
    JOIN "{Wave._meta.db_table}" w ON w.id = s.wave_id
    WHERE w.cohort_id = %s AND s.dyad_id = %s AND s.status = 'submitted'"""
_ITEMS_SQL = """
    SELECT i.id, b.instrument_id, i.code, b.code, sub.code, i.reverse_keyed, b.scale_min,
           b.scale_max
    FROM assessments_item i
    JOIN assessments_subscale sub ON sub.id = i.subscale_id
    JOIN assessments_battery b ON b.id = sub.battery_id
    WHERE b.instrument_id IN ({marks})
    ORDER BY b."order", sub."order", i."order"
"""
_ANSWERS_SQL = (
    f'SELECT response_id, item_id, value FROM "{Answer._meta.db_table}" '
    "WHERE response_id IN ({marks})"
)
