"""What every coordinator figure shares: colours, the state order, axes and layout.

Pure: pandas and plotly only, nothing from Django. ``words`` arguments throughout the
package are ``coordinate.presenters.chart_words()``: the translated wording of axes,
legends and hover text, keyed by the word's name (``"wave"``, ``"mentor"``) and by every
state and flag name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from assessments.measurement import rules
from assessments.measurement.rules import POSITION_MIN, POSITION_SPAN, STATE_ORDER, Constants

Words = Mapping[str, str]

# The placed states from worst to best (the continuum's bands, bottom up), then the rest.
PLACED = tuple(sorted(STATE_ORDER, key=STATE_ORDER.__getitem__))
STATES = (*PLACED, *(state for state in rules.STATES if state not in STATE_ORDER))
STATE_COLOURS: dict[str, str] = {
    "dysfunctional": "#b02a37",
    "traditional": "#8a6d00",
    "relational": "#146c43",
    "unplaced": "#6c757d",
}
ROLE_COLOURS: dict[str, str] = {"mentor": "#1f3a5f", "protege": "#5b8cc9", "dyad": "#212529"}
GRID = "#e9ecef"
AXIS_LINE = "#adb5bd"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
BAND_OPACITY = 0.12
REL_AXIS = (0.8, 7.2)  # the 1–7 REL scale with room for markers at its ends
HEIGHT = 320
DEFAULTS = Constants()


def rel_to_position(rel: float | pd.Series) -> float | pd.Series:
    """A REL score (1–7) on the continuum's 0–100 axis, as ``position`` is stored."""
    return 100 * (rel - POSITION_MIN) / POSITION_SPAN


def band_edges(
    dysfunctional_rel: float = DEFAULTS.dysfunctional_rel,
    relational_rel: float = DEFAULTS.relational_rel,
) -> tuple[float, float]:
    """Positions of the placement cuts: REL 4.0 → 50 and REL 5.5 → 75 by default."""
    return float(rel_to_position(dysfunctional_rel)), float(rel_to_position(relational_rel))


def figure_data(figure: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data for ``json_script`` (arrays in plotly's own encoding)."""
    return json.loads(figure.to_json())


def axis(**extra: Any) -> dict[str, Any]:
    return {
        "showgrid": True,
        "gridcolor": GRID,
        "zeroline": False,
        "showline": True,
        "linecolor": AXIS_LINE,
        "ticks": "outside",
        "tickcolor": AXIS_LINE,
        "automargin": True,
        **extra,
    }


def figure(height: int = HEIGHT, **layout: Any) -> go.Figure:
    """An empty figure with our small layout on top of ``template="none"``."""
    base = {
        "template": "none",
        "height": height,
        "autosize": True,
        "font": {"family": FONT, "size": 13, "color": "#212529"},
        "margin": {"l": 56, "r": 16, "t": 40, "b": 48},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {
            "orientation": "h",
            "x": 0,
            "y": 1.02,
            "yanchor": "bottom",
            "traceorder": "normal",
        },
        "hoverlabel": {"font": {"family": FONT}},
    }
    return go.Figure(layout={**base, **layout})


def empty(shown: go.Figure, message: str) -> go.Figure:
    """``shown`` with ``message`` in its middle, for a figure with nothing to draw."""
    shown.add_annotation(
        text=message,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 15, "color": STATE_COLOURS["unplaced"]},
    )
    return shown


def rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def wave_axis(waves: pd.DataFrame, words: Words) -> dict[str, Any]:
    """An x axis with one tick per wave (``wave, label`` of ``waves``)."""
    numbers = waves["wave"].tolist()
    low, high = (min(numbers), max(numbers)) if numbers else (1, 1)
    return axis(
        title={"text": words["wave"]},
        tickmode="array",
        tickvals=numbers,
        ticktext=waves["label"].tolist(),
        range=[low - 0.5, high + 0.5],
        showgrid=False,
    )


def numbers(values: pd.Series) -> list[float | None]:
    """Floats rounded for display, with None (JSON null) where the value is missing."""
    return [None if pd.isna(v) else round(float(v), 2) for v in values]
