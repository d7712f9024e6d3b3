"""Spreadsheet-safe cells: the one place that defuses formula-like text (DESIGN §6.2).

Pure. Every CSV the product writes (research files, a participant's own copy, dyad
lists) passes its text cells through ``neutralise``; ``csv_chunks`` writes them so.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed decimal number stays as it is; the same pattern runs inside PostgreSQL for the
# COPY path of the long file, so both paths agree.
NUMBER = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"


def neutralise(cell: Any) -> Any:
    """Make text that a spreadsheet would run as a formula inert; numbers stay numbers."""
    if not isinstance(cell, str) or not cell.startswith(FORMULA_STARTS):
        return cell
    if cell[0] in "+-" and re.fullmatch(NUMBER, cell):
        return cell
    return "'" + cell


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, per_chunk: int = 1000
) -> Iterator[str]:
    """CSV text (RFC 4180, header first, CRLF line ends) in chunks of ``per_chunk`` rows,
    every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(cell) for cell in row])
        if count % per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
