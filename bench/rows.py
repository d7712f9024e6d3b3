"""The one row type every benchmark returns and ``bench/run.py`` prints."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    name: str
    measured: str
    budget: str
    baseline: str
    ratio: str
    verdict: str
