"""Plotly figures of the coordinator dashboards (DESIGN §5), built from DataFrames.

Pure: pandas and plotly only, nothing from Django. Each ``*_figure`` function takes a
frame whose columns its docstring names and returns a ``go.Figure`` that pages embed
with ``figure_data`` + ``json_script`` and ``static/js/charts.js`` draws. The small
``state_counts``/``transition_counts``/``response_rates`` helpers shape the cohort
frame for both a figure and the data table that pages show as its text alternative.

Every user-facing word comes from ``TEXT``; views pass translated overrides.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .measurement.rules import POSITION_MIN, POSITION_SPAN

STATES = ("dysfunctional", "traditional", "relational", "unplaced")
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

TEXT: dict[str, str] = {
    "dysfunctional": "Dysfunctional",
    "traditional": "Traditional",
    "relational": "Relational",
    "unplaced": "Not yet placed",
    "mentor": "Mentor",
    "protege": "Protégé",
    "mentors": "Mentors",
    "proteges": "Protégés",
    "dyad": "Dyad",
    "wave": "Wave",
    "dyads": "Dyads",
    "position": "Continuum position (0–100)",
    "mentor_rel": "Mentor REL (1–7)",
    "protege_rel": "Protégé REL (1–7)",
    "identity": "Partners agree",
    "submitted": "Submitted (%)",
    "score": "Score (1–7)",
    "state": "State",
    "flags": "Flags",
    "none": "none",
    "of": "of",
    "no_data": "No results yet.",
    "no_transitions": "Transitions appear once two waves have results.",
}


def text(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """``TEXT`` with ``overrides`` applied (translated strings from the view)."""
    return {**TEXT, **(overrides or {})}


def rel_to_position(rel: float | pd.Series) -> float | pd.Series:
    """A REL score (1–7) on the continuum's 0–100 axis, as ``position`` is stored."""
    return 100 * (rel - POSITION_MIN) / POSITION_SPAN


def band_edges(dysfunctional_rel: float = 4.0, relational_rel: float = 5.5) -> tuple[float, float]:
    """Positions of the placement cuts: REL 4.0 → 50 and REL 5.5 → 75 by default."""
    return float(rel_to_position(dysfunctional_rel)), float(rel_to_position(relational_rel))


def figure_data(figure: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data for ``json_script`` (arrays in plotly's own encoding)."""
    return json.loads(figure.to_json())


# --- shaping the cohort frame ----------------------------------------------------------


def state_counts(frame: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """Dyads per wave and state: columns ``wave, label, state, n``, every state per wave.

    ``frame`` has one row per expected dyad × wave with ``wave`` and ``state``; ``waves``
    has ``wave, label`` in display order.
    """
    counts = frame.groupby(["wave", "state"]).size()
    grid = pd.MultiIndex.from_product([waves["wave"], STATES], names=["wave", "state"])
    counts = counts.reindex(grid, fill_value=0).rename("n").reset_index()
    return counts.merge(waves[["wave", "label"]], on="wave")[["wave", "label", "state", "n"]]


def transition_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Dyads moving between states of consecutive waves.

    ``frame`` has ``dyad, wave, state``. Returns ``wave_from, state_from, wave_to,
    state_to, n`` for each pair of consecutive wave numbers present, sorted.
    """
    columns = ["wave_from", "state_from", "wave_to", "state_to", "n"]
    waves = sorted(pd.unique(frame["wave"]))
    following = dict(zip(waves[:-1], waves[1:], strict=True))
    if not following:
        return pd.DataFrame(columns=columns)
    now = frame[["dyad", "wave", "state"]].rename(
        columns={"wave": "wave_from", "state": "state_from"}
    )
    later = frame[["dyad", "wave", "state"]].rename(
        columns={"wave": "wave_to", "state": "state_to"}
    )
    now = now[now["wave_from"].isin(following)].assign(
        wave_to=lambda f: f["wave_from"].map(following)
    )
    pairs = now.merge(later, on=["dyad", "wave_to"])
    links = pairs.groupby(["wave_from", "state_from", "wave_to", "state_to"]).size()
    return links.rename("n").reset_index()[columns].sort_values(columns[:4], ignore_index=True)


def response_rates(frame: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """Submission shares per wave: ``wave, label, expected, mentors, proteges, rate,
    mentor_rate, protege_rate`` (rates in percent of expected dyads; NaN with none)."""
    sums = frame.groupby("wave").agg(
        expected=("dyad", "size"),
        mentors=("mentor_submitted", "sum"),
        proteges=("protege_submitted", "sum"),
    )
    sums = sums.reindex(waves["wave"], fill_value=0).astype(int)
    expected = sums["expected"].replace(0, np.nan)
    rates = sums.assign(
        rate=100 * (sums["mentors"] + sums["proteges"]) / (2 * expected),
        mentor_rate=100 * sums["mentors"] / expected,
        protege_rate=100 * sums["proteges"] / expected,
    ).reset_index()
    return waves[["wave", "label"]].merge(rates, on="wave")


# --- layout ------------------------------------------------------------------------------


def _axis(**extra: Any) -> dict[str, Any]:
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


def _figure(height: int = HEIGHT, **layout: Any) -> go.Figure:
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


def _empty(figure: go.Figure, message: str) -> go.Figure:
    figure.add_annotation(
        text=message,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 15, "color": STATE_COLOURS["unplaced"]},
    )
    return figure


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def _wave_axis(waves: pd.DataFrame, words: dict[str, str]) -> dict[str, Any]:
    numbers = waves["wave"].tolist()
    low, high = (min(numbers), max(numbers)) if numbers else (1, 1)
    return _axis(
        title={"text": words["wave"]},
        tickmode="array",
        tickvals=numbers,
        ticktext=waves["label"].tolist(),
        range=[low - 0.5, high + 0.5],
        showgrid=False,
    )


# --- cohort figures ----------------------------------------------------------------------


def state_distribution_figure(
    counts: pd.DataFrame, labels: Mapping[str, str] | None = None
) -> go.Figure:
    """Stacked bars of dyads per state and wave from ``state_counts`` output."""
    words = text(labels)
    waves = counts[["wave", "label"]].drop_duplicates()
    figure = _figure(barmode="stack", xaxis=_wave_axis(waves, words))
    figure.update_layout(yaxis=_axis(title={"text": words["dyads"]}, rangemode="tozero"))
    if counts.empty or counts["n"].sum() == 0:
        return _empty(figure, words["no_data"])
    for state in STATES:
        rows = counts[counts["state"] == state]
        figure.add_bar(
            x=rows["wave"].tolist(),
            y=rows["n"].tolist(),
            name=words[state],
            marker={"color": STATE_COLOURS[state]},
            customdata=rows["label"].tolist(),
            hovertemplate=f"%{{customdata}}<br>{words[state]}: %{{y}}<extra></extra>",
        )
    return figure


def transitions_figure(
    links: pd.DataFrame, waves: pd.DataFrame, labels: Mapping[str, str] | None = None
) -> go.Figure:
    """Sankey of ``transition_counts`` output: one column of state nodes per wave."""
    words = text(labels)
    figure = _figure(height=HEIGHT + 40, margin={"l": 16, "r": 16, "t": 40, "b": 16})
    if links.empty:
        return _empty(figure, words["no_transitions"])
    outgoing = links.groupby(["wave_from", "state_from"])["n"].sum().rename_axis(["wave", "state"])
    incoming = links.groupby(["wave_to", "state_to"])["n"].sum().rename_axis(["wave", "state"])
    ends = pd.concat([outgoing, incoming], axis=1).max(axis=1).rename("n").reset_index()
    nodes = _sankey_nodes(ends, waves)
    key = {(row.wave, row.state): i for i, row in enumerate(nodes.itertuples())}
    label_of = dict(zip(waves["wave"], waves["label"], strict=True))
    figure.add_trace(
        go.Sankey(
            arrangement="snap",
            textfont={"size": 11},
            node={
                "label": [words[state] for state in nodes["state"]],
                "color": [STATE_COLOURS[state] for state in nodes["state"]],
                "x": nodes["x"].tolist(),
                "y": nodes["y"].tolist(),
                "pad": 12,
                "thickness": 14,
                "line": {"width": 0},
                "customdata": [label_of[w] for w in nodes["wave"]],
                "hovertemplate": "%{customdata}: %{label}<br>%{value}<extra></extra>",
            },
            link={
                "source": _node_ids(key, links["wave_from"], links["state_from"]),
                "target": _node_ids(key, links["wave_to"], links["state_to"]),
                "value": links["n"].tolist(),
                "color": [_rgba(STATE_COLOURS[s], 0.35) for s in links["state_from"]],
            },
        )
    )
    for wave, x in nodes.drop_duplicates("wave")[["wave", "x"]].itertuples(index=False):
        figure.add_annotation(
            text=label_of[wave],
            x=x,
            y=1.0,
            xref="paper",
            yref="paper",
            yanchor="bottom",
            showarrow=False,
            font={"size": 12},
        )
    return figure


def _node_ids(key: dict, waves: pd.Series, states: pd.Series) -> list[int]:
    return [key[(wave, state)] for wave, state in zip(waves, states, strict=True)]


def _sankey_nodes(ends: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    """One node per wave × state with dyads, placed by wave (x) and state order (y)."""
    sizes = ends.copy()
    sizes["order"] = sizes["state"].map({s: i for i, s in enumerate(STATES)})
    sizes = sizes.sort_values(["wave", "order"], ignore_index=True)
    numbers = [w for w in waves["wave"] if w in set(sizes["wave"])]
    span = max(len(numbers) - 1, 1)
    sizes["x"] = sizes["wave"].map({w: 0.001 + 0.998 * i / span for i, w in enumerate(numbers)})
    share = sizes["n"] / sizes.groupby("wave")["n"].transform("sum")
    sizes["y"] = 0.04 + 0.92 * (share.groupby(sizes["wave"]).cumsum() - share / 2)
    return sizes[["wave", "state", "n", "x", "y"]]


def agreement_figure(points: pd.DataFrame, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Mentor REL against protégé REL, one trace per state, with the identity line.

    ``points`` has ``code, state, rel_mentor, rel_protege``; rows missing a score are
    left out.
    """
    words = text(labels)
    figure = _figure(
        height=HEIGHT + 60,
        xaxis=_axis(
            title={"text": words["mentor_rel"]}, range=list(REL_AXIS), dtick=1, constrain="domain"
        ),
        yaxis=_axis(
            title={"text": words["protege_rel"]},
            range=list(REL_AXIS),
            dtick=1,
            scaleanchor="x",
            scaleratio=1,
            constrain="domain",
        ),
    )
    figure.add_shape(
        type="line",
        x0=1,
        y0=1,
        x1=7,
        y1=7,
        layer="below",
        name="identity",
        line={"color": AXIS_LINE, "dash": "dash", "width": 1.5},
    )
    both = points.dropna(subset=["rel_mentor", "rel_protege"])
    if both.empty:
        return _empty(figure, words["no_data"])
    for state in STATES:
        rows = both[both["state"] == state]
        if rows.empty:
            continue
        figure.add_scatter(
            x=rows["rel_mentor"].round(2).tolist(),
            y=rows["rel_protege"].round(2).tolist(),
            mode="markers",
            name=words[state],
            text=rows["code"].tolist(),
            marker={"color": STATE_COLOURS[state], "size": 7, "opacity": 0.75},
            hovertemplate=(
                f"%{{text}}<br>{words['mentor']} REL %{{x:.2f}}<br>"
                f"{words['protege']} REL %{{y:.2f}}<extra>{words[state]}</extra>"
            ),
        )
    return figure


def response_rate_figure(rates: pd.DataFrame, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Grouped bars of the share of mentors and protégés who submitted, per wave (0–100 %)."""
    words = text(labels)
    figure = _figure(
        barmode="group",
        xaxis=_wave_axis(rates[["wave", "label"]], words),
        yaxis=_axis(title={"text": words["submitted"]}, range=[0, 100], ticksuffix="%"),
    )
    if rates.empty or rates["expected"].sum() == 0:
        return _empty(figure, words["no_data"])
    for role, count, rate in (
        ("mentors", "mentors", "mentor_rate"),
        ("proteges", "proteges", "protege_rate"),
    ):
        figure.add_bar(
            x=rates["wave"].tolist(),
            y=rates[rate].round(1).tolist(),
            name=words[role],
            marker={"color": ROLE_COLOURS["mentor" if role == "mentors" else "protege"]},
            customdata=np.column_stack([rates["label"], rates[count], rates["expected"]]).tolist(),
            hovertemplate=(
                f"%{{customdata[0]}}<br>{words[role]}: %{{customdata[1]}} {words['of']} "
                "%{customdata[2]} (%{y:.0f}%)<extra></extra>"
            ),
        )
    return figure


# --- dyad figures ------------------------------------------------------------------------


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
        for state, (low, high) in zip(STATES[:3], bounds, strict=True)
    ]


def trajectory_figure(
    trajectory: pd.DataFrame,
    edges: tuple[float, float] = (50.0, 75.0),
    labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """A dyad's path on the 0–100 continuum with the three bands shaded.

    ``trajectory`` has one row per wave: ``wave, label, state, position, flags`` (an
    iterable of flag names) and ``rel_*, psy_*, str_*`` for ``mentor, protege, dyad``.
    Lines: each partner's REL mapped like ``position``, and the dyad's position with
    markers coloured by state; hover shows scores and flags. Missing values leave gaps.
    """
    words = text(labels)
    figure = _figure(
        height=HEIGHT + 40,
        xaxis=_wave_axis(trajectory[["wave", "label"]], words),
        yaxis=_axis(title={"text": words["position"]}, range=[0, 100], dtick=25),
        shapes=band_shapes(edges),
    )
    _band_labels(figure, edges, words)
    if trajectory["position"].isna().all() and trajectory[["rel_mentor", "rel_protege"]].isna().all(
        axis=None
    ):
        return _empty(figure, words["no_data"])
    for role, dash in (("mentor", "dot"), ("protege", "dash")):
        rel = trajectory[f"rel_{role}"]
        figure.add_scatter(
            x=trajectory["wave"].tolist(),
            y=_numbers(rel_to_position(rel)),
            mode="lines+markers",
            name=f"{words[role]} REL",
            line={"color": ROLE_COLOURS[role], "dash": dash, "width": 2},
            marker={"size": 6},
            customdata=_numbers(rel),
            hovertemplate=f"{words[role]} REL %{{customdata:.2f}}<extra></extra>",
        )
    figure.add_scatter(
        x=trajectory["wave"].tolist(),
        y=_numbers(trajectory["position"]),
        mode="lines+markers",
        name=words["dyad"],
        line={"color": ROLE_COLOURS["dyad"], "width": 3},
        marker={
            "size": 12,
            "color": [STATE_COLOURS.get(s, STATE_COLOURS["unplaced"]) for s in trajectory["state"]],
            "line": {"color": "#ffffff", "width": 1.5},
        },
        hovertext=[_hover(row, words) for row in trajectory.to_dict("records")],
        hoverinfo="text",
    )
    return figure


def _band_labels(figure: go.Figure, edges: tuple[float, float], words: dict[str, str]) -> None:
    middles = [edges[0] / 2, (edges[0] + edges[1]) / 2, (edges[1] + 100) / 2]
    for state, y in zip(STATES[:3], middles, strict=True):
        figure.add_annotation(
            text=words[state],
            x=1,
            xref="paper",
            y=y,
            yref="y",
            xanchor="right",
            showarrow=False,
            font={"color": STATE_COLOURS[state], "size": 12},
        )


def _numbers(values: pd.Series) -> list[float | None]:
    """Floats rounded for display, with None (JSON null) where the value is missing."""
    return [None if pd.isna(v) else round(float(v), 2) for v in values]


def _score(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.2f}"


def _hover(row: dict[str, Any], words: dict[str, str]) -> str:
    """Hover text of one wave of the dyad line: state, position, scores and flags."""
    lines = [f"<b>{row['label']}</b>", f"{words['state']}: {words.get(row['state'], row['state'])}"]
    if not pd.isna(row["position"]):
        lines.append(f"{words['position']}: {row['position']:.0f}")
    for battery in ("rel", "psy", "str"):
        scores = " · ".join(
            f"{words[role]} {_score(row.get(f'{battery}_{role}'))}"
            for role in ("mentor", "protege", "dyad")
        )
        lines.append(f"{battery.upper()}: {scores}")
    flags = ", ".join(words.get(flag, flag) for flag in row.get("flags") or ()) or words["none"]
    lines.append(f"{words['flags']}: {flags}")
    return "<br>".join(lines)


def profile_figure(profile: pd.DataFrame, labels: Mapping[str, str] | None = None) -> go.Figure:
    """Both partners' REL subscale scores as grouped horizontal bars on the 1–7 scale.

    ``profile`` has ``subscale, title, mentor, protege`` in display order (top first).
    """
    words = text(labels)
    figure = _figure(
        height=max(HEIGHT, 60 + 52 * len(profile)),
        barmode="group",
        xaxis=_axis(title={"text": words["score"]}, range=[1, 7], dtick=1),
        yaxis=_axis(autorange="reversed", showgrid=False),
        margin={"l": 16, "r": 16, "t": 40, "b": 48},
    )
    if profile.empty or profile[["mentor", "protege"]].isna().all(axis=None):
        return _empty(figure, words["no_data"])
    for role in ("mentor", "protege"):
        figure.add_bar(
            y=profile["title"].tolist(),
            x=_numbers(profile[role]),
            orientation="h",
            name=words[role],
            marker={"color": ROLE_COLOURS[role]},
            customdata=profile["subscale"].tolist(),
            hovertemplate=f"%{{customdata}} {words[role]}: %{{x:.2f}}<extra></extra>",
        )
    return figure
