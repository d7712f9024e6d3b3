"""Producing a cohort's research files and recording every export in the audit log."""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Iterator

from django.db import connection

from audit.models import AuditEvent
from audit.services import audit_record
from relationships.models import Cohort

from . import export_selectors as reads
from . import exports
from .models import ExportLog

FORMATS = ("long", "respondent", "dyad", "pairwise", "codebook")


class Counted:
    """Wraps a row iterator and counts the rows that went through."""

    def __init__(self, rows: Iterator):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


class CountedLines(Counted):
    """Counts the CRLF-ended rows in blocks of CSV text going through."""

    def __iter__(self):
        for block in self.rows:
            self.count += block.count("\n")
            yield block


def export_stream(*, cohort: Cohort, format: str) -> tuple[Iterator[str], Counted]:
    """CSV text of one file, chunk by chunk, and the counter of its data rows.

    On PostgreSQL the long file (the big one) comes straight from ``COPY``; the bytes are
    the same either way (tests/test_exports.py compares them).
    """
    if format == "long" and connection.vendor == "postgresql":
        counted = CountedLines(reads.long_copy(cohort=cohort))
        return itertools.chain(exports.csv_chunks(exports.LONG_COLUMNS, ()), counted), counted
    header, rows = _file(cohort, format)
    counted = Counted(rows)
    return exports.csv_chunks(header, counted), counted


def _file(cohort: Cohort, format: str):
    if format == "long":
        return exports.LONG_COLUMNS, exports.long_rows(reads.long_records(cohort=cohort))
    if format == "dyad":
        return exports.DYAD_COLUMNS, exports.dyad_rows(reads.dyad_records(cohort=cohort))
    if format == "codebook":
        items = reads.codebook_items(cohort=cohort)
        subscales = list(dict.fromkeys(s for s in items["subscale"] if "-" in s))
        return exports.CODEBOOK_COLUMNS, exports.codebook_rows(items, subscales)
    items, item_codes, subscales = reads.respondent_catalogue(cohort=cohort)
    frames = reads.respondent_frames(cohort=cohort, items=items)
    if format == "respondent":
        header = exports.respondent_columns(item_codes, subscales)
        rows = (exports.respondent_rows(f, item_codes, subscales) for f in frames)
        return header, itertools.chain.from_iterable(rows)
    if format == "pairwise":
        rows = (exports.pairwise_rows(f) for f in frames)
        return exports.PAIRWISE_COLUMNS, itertools.chain.from_iterable(rows)
    raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)} or zip")


def export_zip(*, cohort: Cohort) -> tuple[bytes, int]:
    """All five files and a README in one zip; returns the bytes and the total row count."""
    buffer, total = io.BytesIO(), 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in FORMATS:
            chunks, counted = export_stream(cohort=cohort, format=name)
            archive.writestr(f"{cohort.program.slug}-{cohort.slug}-{name}.csv", "".join(chunks))
            total += counted.count
        archive.writestr("README.txt", exports.README)
    return buffer.getvalue(), total


def export_log(*, user, cohort: Cohort, format: str, rows: int, via: str) -> ExportLog:
    """The export's own log row (rows, file) and its entry in the audit trail."""
    audit_record(
        action=AuditEvent.Action.EXPORT,
        actor=user,
        target=cohort.path,
        detail={"format": format, "rows": rows, "via": via},
    )
    return ExportLog.objects.create(user=user, cohort=cohort, format=format, rows=rows, via=via)
