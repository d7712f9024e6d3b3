"""What every coordinator figure shares: colours, the state order, axes and layout.

Pure: pandas and plotly only, nothing from Django. ``words`` arguments throughout the
package are ``coordinate.presenters.chart_words()``: the translated wording of axes,
legends and hover text, keyed by the word's name (``"wave"``, ``"mentor"``) and by every
state and flag name, and the language's decimal mark (``"decimal"``).

Text in a figure is markup to plotly.js: ``<a href>``, ``<b>``, ``<br>`` and a few more
tags become SVG links and formatting. ``figure_data``, the one way a figure reaches a
page, therefore makes every string of the figure ``plain_text``, except the hover
templates and hover texts the builders compose from ``words``; a value from the data
(wave label, dyad code, subscale title) enters those only through ``plain_text`` or
``customdata``.
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
# Charts drawn narrower than this (in CSS px: a phone held upright; a half-width chart on
# a desktop is about 520) use their narrow layout, which ``static/js/charts.js`` merges
# in from ``layout.meta.narrow``.
NARROW_BELOW = 480
KEY_FONT = 12
DEFAULTS = Constants()
# Keys whose text the builders compose from ``words`` with deliberate markup (<br>, <extra>).
MARKUP_KEYS = frozenset({"hovertemplate", "hovertext"})


def rel_to_position(rel: float | pd.Series) -> float | pd.Series:
    """A REL score (1–7) on the continuum's 0–100 axis, as ``position`` is stored."""
    return 100 * (rel - POSITION_MIN) / POSITION_SPAN


def band_edges(
    dysfunctional_rel: float = DEFAULTS.dysfunctional_rel,
    relational_rel: float = DEFAULTS.relational_rel,
) -> tuple[float, float]:
    """Positions of the placement cuts: REL 4.0 → 50 and REL 5.5 → 75 by default."""
    return float(rel_to_position(dysfunctional_rel)), float(rel_to_position(relational_rel))


def plain_text(value: object) -> str:
    """``value`` as text that plotly.js shows exactly as written and never reads as markup.

    plotly.js cuts a text at its tags (``<...>``) first and decodes the entities
    ``&amp; &lt; &gt;`` of the pieces between tags only afterwards, into characters of a
    text node. So with ``&``, ``<`` and ``>`` written as entities no tag is left to find,
    and the reader still sees ``<a href=...>`` as typed.
    """
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def figure_data(figure: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data for ``json_script`` (arrays in plotly's own encoding),
    with every string made ``plain_text`` except those under ``MARKUP_KEYS``."""
    return _plain(json.loads(figure.to_json()))


def _plain(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        return value if key in MARKUP_KEYS else plain_text(value)
    if isinstance(value, list):
        return [_plain(item, key) for item in value]
    if isinstance(value, dict):
        return {name: _plain(item, name) for name, item in value.items()}
    return value


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


def narrow(
    shown: go.Figure,
    *,
    layout: dict[str, Any] | None = None,
    data: list[dict[str, Any]] | None = None,
) -> go.Figure:
    """``shown`` with what changes when it is drawn narrower than ``NARROW_BELOW`` px:
    ``layout`` keys and, per trace in trace order, ``data`` keys, each merged into the
    figure's own (objects key by key; a list or a value replaces). Kept in
    ``layout.meta.narrow``, which plotly.js carries without drawing anything of it."""
    changes = {"below": NARROW_BELOW, "layout": layout or {}, "data": data or []}
    shown.update_layout(meta={"narrow": changes})
    return shown


def colour_key(states: list[str], words: Words, y: float = -0.02) -> list[dict[str, Any]]:
    """Annotations naming ``states`` in their colours, two a row from ``y`` (paper
    units) down: the key of a narrow figure whose own labels would not fit."""
    return [
        {
            "text": f"■ {words[state]}",
            "xref": "paper",
            "yref": "paper",
            "x": 0.5 * (index % 2),
            "y": y,
            "yshift": -20 * (index // 2),
            "xanchor": "left",
            "yanchor": "top",
            "showarrow": False,
            "font": {"size": KEY_FONT, "color": STATE_COLOURS[state]},
        }
        for index, state in enumerate(states)
    ]


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


def decimal(value: Any, digits: int, words: Words) -> str:
    """``value`` as text with ``digits`` decimals and the decimal mark of ``words``
    (``"decimal"``; a point without one), or an en dash when it is missing: numbers a
    builder writes into hover text read as the page's language writes them."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value:.{digits}f}".replace(".", words.get("decimal", "."))


def numbers(values: pd.Series) -> list[float | None]:
    """Floats rounded for display, with None (JSON null) where the value is missing."""
    return [None if pd.isna(v) else round(float(v), 2) for v in values]
