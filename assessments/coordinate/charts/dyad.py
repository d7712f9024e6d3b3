"""Figures of one dyad (DESIGN §5): its trajectory on the continuum and its REL profile.
Pure: pandas and plotly only."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from assessments.measurement.rules import ROLES

from .base import (
    BAND_OPACITY,
    HEIGHT,
    PLACED,
    ROLE_COLOURS,
    STATE_COLOURS,
    Words,
    axis,
    band_edges,
    decimal,
    empty,
    figure,
    narrow,
    numbers,
    plain_text,
    rel_to_position,
    wave_axis,
)

HOVER_SCORES = ("rel", "psy", "str")  # the scores behind placement, shown on hover
SIDES = (*ROLES, "dyad")


def band_shapes(edges: tuple[float, float]) -> list[dict[str, Any]]:
    """The three continuum bands as shaded rectangles across the plot, lowest first."""
    bounds = [(0.0, edges[0]), (edges[0], edges[1]), (edges[1], 100.0)]
    return [
        {
            "type": "rect",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": low,
            "y1": high,
            "fillcolor": STATE_COLOURS[state],
            "opacity": BAND_OPACITY,
            "line": {"width": 0},
            "layer": "below",
            "name": state,
        }
        for state, (low, high) in zip(PLACED, bounds, strict=True)
    ]


def trajectory_figure(
    trajectory: pd.DataFrame, words: Words, edges: tuple[float, float] | None = None
) -> go.Figure:
    """A dyad's path on the 0–100 continuum with the three bands shaded at ``edges``
    (``band_edges()`` by default).

    ``trajectory`` has one row per wave: ``wave, label, state, position, flags`` (an
    iterable of flag names) and ``rel_*, psy_*, str_*`` for ``mentor, protege, dyad``.
    Lines: each partner's REL mapped like ``position``, and the dyad's position with
    markers coloured by state; hover shows scores and flags. Missing values leave gaps.
    """
    edges = edges or band_edges()
    shown = figure(
        height=HEIGHT + 40,
        xaxis=wave_axis(trajectory[["wave", "label"]], words),
        yaxis=axis(title={"text": words["position"]}, range=[0, 100], dtick=25),
        shapes=band_shapes(edges),
    )
    _band_labels(shown, edges, words)
    scores = trajectory[["position", "rel_mentor", "rel_protege"]]
    if scores.isna().all(axis=None):
        return empty(shown, words["no_data"])
    for role, dash in (("mentor", "dot"), ("protege", "dash")):
        shown.add_trace(_partner_line(trajectory, role, dash, words))
    shown.add_trace(_dyad_line(trajectory, words))
    return narrow(
        shown,
        layout={"margin": {"r": 28}, "annotations": _band_labels_aside(edges, words)},
    )


def _partner_line(trajectory: pd.DataFrame, role: str, dash: str, words: Words) -> go.Scatter:
    """One partner's REL per wave, drawn on the continuum's axis."""
    rel = trajectory[f"rel_{role}"]
    return go.Scatter(
        x=trajectory["wave"].tolist(),
        y=numbers(rel_to_position(rel)),
        mode="lines+markers",
        name=f"{words[role]} REL",
        line={"color": ROLE_COLOURS[role], "dash": dash, "width": 2},
        marker={"size": 6},
        customdata=numbers(rel),
        hovertemplate=f"{words[role]} REL %{{customdata:.2f}}<extra></extra>",
    )


def _dyad_line(trajectory: pd.DataFrame, words: Words) -> go.Scatter:
    """The dyad's position per wave, each marker in its placed state's colour."""
    colours = [STATE_COLOURS.get(s, STATE_COLOURS["unplaced"]) for s in trajectory["state"]]
    return go.Scatter(
        x=trajectory["wave"].tolist(),
        y=numbers(trajectory["position"]),
        mode="lines+markers",
        name=words["dyad"],
        line={"color": ROLE_COLOURS["dyad"], "width": 3},
        marker={"size": 12, "color": colours, "line": {"color": "#ffffff", "width": 1.5}},
        hovertext=[_hover(row, words) for row in trajectory.to_dict("records")],
        hoverinfo="text",
    )


def _middles(edges: tuple[float, float]) -> list[float]:
    return [edges[0] / 2, (edges[0] + edges[1]) / 2, (edges[1] + 100) / 2]


def _band_labels_aside(edges: tuple[float, float], words: Words) -> list[dict[str, Any]]:
    """The band names turned upright in the right margin: on a phone the waves sit so
    close that names inside the plot would lie on the last wave's markers."""
    return [
        {
            "text": words[state],
            "x": 1,
            "xref": "paper",
            "xanchor": "left",
            "xshift": 2,
            "y": y,
            "yref": "y",
            "textangle": -90,
            "showarrow": False,
            "font": {"color": STATE_COLOURS[state], "size": 11},
        }
        for state, y in zip(PLACED, _middles(edges), strict=True)
    ]


def _band_labels(shown: go.Figure, edges: tuple[float, float], words: Words) -> None:
    for state, y in zip(PLACED, _middles(edges), strict=True):
        shown.add_annotation(
            text=words[state],
            x=1,
            xref="paper",
            y=y,
            yref="y",
            xanchor="right",
            showarrow=False,
            font={"color": STATE_COLOURS[state], "size": 12},
        )


def _hover(row: dict[str, Any], words: Words) -> str:
    """Hover text of one wave of the dyad line: state, position, scores and flags.

    A flag without an entry in ``words`` shows under its own name. The wave's label is
    the coordinator's text, so it goes in as ``plain_text``; the lines are joined with
    ``<br>`` only, as any other tag (``<b>``) makes plotly.js write an inline style that
    the Content-Security-Policy refuses."""
    lines = [
        plain_text(row["label"]),
        f"{words['state']}: {words.get(row['state'], row['state'])}",
    ]
    if not pd.isna(row["position"]):
        lines.append(f"{words['position']}: {decimal(row['position'], 0, words)}")
    for battery in HOVER_SCORES:
        scores = " · ".join(
            f"{words[side]} {decimal(row.get(f'{battery}_{side}'), 2, words)}" for side in SIDES
        )
        lines.append(f"{battery.upper()}: {scores}")
    flags = ", ".join(words.get(flag, flag) for flag in row.get("flags") or ()) or words["none"]
    lines.append(f"{words['flags']}: {flags}")
    return "<br>".join(lines)


def profile_figure(profile: pd.DataFrame, words: Words) -> go.Figure:
    """Both partners' REL subscale scores as grouped horizontal bars on the 1–7 scale.

    ``profile`` has ``subscale, title, mentor, protege`` in display order (top first).
    """
    shown = figure(
        height=max(HEIGHT, 60 + 52 * len(profile)),
        barmode="group",
        xaxis=axis(title={"text": words["score"]}, range=[1, 7], dtick=1),
        yaxis=axis(autorange="reversed", showgrid=False),
        margin={"l": 16, "r": 16, "t": 40, "b": 48},
    )
    if profile.empty or profile[["mentor", "protege"]].isna().all(axis=None):
        return empty(shown, words["no_data"])
    for role in ("mentor", "protege"):
        shown.add_bar(
            y=profile["title"].tolist(),
            x=numbers(profile[role]),
            orientation="h",
            name=words[role],
            marker={"color": ROLE_COLOURS[role]},
            customdata=profile["subscale"].tolist(),
            hovertemplate=f"%{{customdata}} {words[role]}: %{{x:.2f}}<extra></extra>",
        )
    return _narrow_profile(shown, profile["title"].tolist())


def _narrow_profile(shown: go.Figure, titles: list[str]) -> go.Figure:
    """On a phone the subscale titles beside the bars would leave them no room: each
    title goes above its pair of bars instead, across the whole width."""
    gap = 0.45  # of each subscale's row: the room between pairs that holds a title
    top = (1 - gap) / 2
    labels = [
        {
            "text": title,
            "x": 0,
            "xref": "paper",
            "xanchor": "left",
            "y": index - top,
            "yref": "y",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 12},
        }
        for index, title in enumerate(titles)
    ]
    return narrow(
        shown,
        layout={
            "height": max(HEIGHT, 60 + 72 * len(titles)),
            "bargap": gap,
            "margin": {"l": 8},
            "yaxis": {
                "showticklabels": False,
                "autorange": False,
                "range": [len(titles) - 0.5, -0.9],
            },
            "annotations": labels,
        },
    )
