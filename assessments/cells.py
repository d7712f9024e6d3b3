"""Spreadsheet-safe cells: the one place that defuses formula-like text (DESIGN §6.2).

Pure. Every CSV the product writes (research files, a participant's own copy, dyad
lists) passes its text cells through ``neutralise``.
"""

from __future__ import annotations

import re
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
