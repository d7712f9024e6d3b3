"""The dashboard's dyad list with every wave's stored result, for the CSV download.

The dyads are those of the dashboard's table (``cohort.dyad_rows``: the same filters and
order, so a filter is never written twice), read with their stored results in one query
that the database streams: memory and queries stay flat whatever the cohort's size.
Stored results only, never an item answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from operator import itemgetter
from typing import Any

from assessments.models import Wave
from relationships.models import Cohort

from ..files import DYAD_FIELDS, RESULT_FIELDS
from .cohort import dyad_rows

CHUNK_ROWS = 2000


def dyad_list_records(
    *, cohort: Cohort, wave: Wave | None, filters: Mapping[str, Any]
) -> Iterator[tuple[dict[str, Any], dict[int, dict[str, Any]]]]:
    """Each listed dyad (``files.DYAD_FIELDS``) with its stored results by wave id
    (``files.RESULT_FIELDS``), in the table's order.

    ``wave`` and ``filters`` as for ``cohort.dyad_rows`` (the filters apply at ``wave``).
    One query, read ``CHUNK_ROWS`` rows at a time (a server-side cursor on PostgreSQL).
    """
    stored = {f"results__{name}": name for name in ("wave_id", *RESULT_FIELDS)}
    rows = dyad_rows(cohort=cohort, wave=wave, filters=filters).values("pk", *DYAD_FIELDS, *stored)
    for _pk, group in itertools.groupby(rows.iterator(chunk_size=CHUNK_ROWS), itemgetter("pk")):
        group = list(group)
        results = {
            row["results__wave_id"]: {name: row[key] for key, name in stored.items()}
            for row in group
            if row["results__wave_id"] is not None
        }
        yield {name: group[0][name] for name in DYAD_FIELDS}, results
