"""Figures of the cohort dashboard (DESIGN §5): states per wave, movement between waves,
partner agreement and response rates. Pure: pandas and plotly only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import (
    AXIS_LINE,
    HEIGHT,
    REL_AXIS,
    ROLE_COLOURS,
    STATE_COLOURS,
    STATES,
    Words,
    axis,
    colour_key,
    empty,
    figure,
    narrow,
    rgba,
    wave_axis,
)


def state_distribution_figure(counts: pd.DataFrame, words: Words) -> go.Figure:
    """Stacked bars of dyads per state and wave from ``state_counts`` output."""
    waves = counts[["wave", "label"]].drop_duplicates()
    shown = figure(barmode="stack", xaxis=wave_axis(waves, words))
    shown.update_layout(yaxis=axis(title={"text": words["dyads"]}, rangemode="tozero"))
    if counts.empty or counts["n"].sum() == 0:
        return empty(shown, words["no_data"])
    for state in STATES:
        rows = counts[counts["state"] == state]
        shown.add_bar(
            x=rows["wave"].tolist(),
            y=rows["n"].tolist(),
            name=words[state],
            marker={"color": STATE_COLOURS[state]},
            customdata=rows["label"].tolist(),
            hovertemplate=f"%{{customdata}}<br>{words[state]}: %{{y}}<extra></extra>",
        )
    return shown


def transitions_figure(links: pd.DataFrame, waves: pd.DataFrame, words: Words) -> go.Figure:
    """Sankey of ``transition_counts`` output: one column of state nodes per wave."""
    shown = figure(height=HEIGHT + 40, margin={"l": 16, "r": 16, "t": 40, "b": 16})
    if links.empty:
        return empty(shown, words["no_transitions"])
    outgoing = links.groupby(["wave_from", "state_from"])["n"].sum().rename_axis(["wave", "state"])
    incoming = links.groupby(["wave_to", "state_to"])["n"].sum().rename_axis(["wave", "state"])
    ends = pd.concat([outgoing, incoming], axis=1).max(axis=1).rename("n").reset_index()
    nodes = _sankey_nodes(ends, waves)
    label_of = dict(zip(waves["wave"], waves["label"], strict=True))
    shown.add_trace(_sankey(nodes, links, label_of, words))
    for wave, x in nodes.drop_duplicates("wave")[["wave", "x"]].itertuples(index=False):
        shown.add_annotation(
            text=label_of[wave],
            x=x,
            y=1.0,
            xref="paper",
            yref="paper",
            yanchor="bottom",
            showarrow=False,
            font={"size": 12},
        )
    return _narrow_sankey(shown, nodes, words)


def _narrow_sankey(shown: go.Figure, nodes: pd.DataFrame, words: Words) -> go.Figure:
    """On a phone the node labels run into each other and across the flows: the nodes go
    unlabelled, a colour key under the diagram names the states, and hovering a node
    still names its state."""
    states = [state for state in STATES if state in set(nodes["state"])]
    rows = (len(states) + 1) // 2
    hover = [
        f"%{{customdata}}: {words[state]}<br>%{{value}}<extra></extra>" for state in nodes["state"]
    ]
    return narrow(
        shown,
        layout={
            "height": HEIGHT + 40 + 20 * rows,
            "margin": {"b": 16 + 20 * rows},
            "annotations": [
                *shown.to_plotly_json()["layout"]["annotations"],
                *colour_key(states, words),
            ],
        },
        data=[{"node": {"label": [""] * len(nodes), "hovertemplate": hover}}],
    )


def _sankey(nodes: pd.DataFrame, links: pd.DataFrame, label_of: dict, words: Words) -> go.Sankey:
    key = {(row.wave, row.state): i for i, row in enumerate(nodes.itertuples())}
    return go.Sankey(
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
            "color": [rgba(STATE_COLOURS[s], 0.35) for s in links["state_from"]],
        },
    )


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


def agreement_figure(points: pd.DataFrame, words: Words) -> go.Figure:
    """Mentor REL against protégé REL, one trace per state, with the identity line.

    ``points`` has ``state, rel_mentor, rel_protege`` and either ``code`` (one dot per
    dyad) or ``n`` (one dot per bin of ``n`` dyads, its area growing with ``n``); rows
    missing a score are left out.
    """
    rel_axis = {"range": list(REL_AXIS), "dtick": 1, "constrain": "domain"}
    shown = figure(
        height=HEIGHT + 60,
        xaxis=axis(title={"text": words["mentor_rel"]}, **rel_axis),
        yaxis=axis(title={"text": words["protege_rel"]}, scaleanchor="x", scaleratio=1, **rel_axis),
    )
    shown.add_shape(
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
        return empty(shown, words["no_data"])
    for state in STATES:
        rows = both[both["state"] == state]
        if rows.empty:
            continue
        shown.add_scatter(
            x=rows["rel_mentor"].round(2).tolist(),
            y=rows["rel_protege"].round(2).tolist(),
            mode="markers",
            name=words[state],
            **_dots(rows, words, STATE_COLOURS[state]),
            hovertemplate=(
                f"%{{text}}<br>{words['mentor']} REL %{{x:.2f}}<br>"
                f"{words['protege']} REL %{{y:.2f}}<extra>{words[state]}</extra>"
            ),
        )
    return shown


def _dots(rows: pd.DataFrame, words: Words, colour: str) -> dict:
    """Markers and hover text: one dot per dyad (its code), or per bin (how many)."""
    if "n" not in rows.columns:
        marker = {"color": colour, "size": 7, "opacity": 0.75}
        return {"text": rows["code"].tolist(), "marker": marker}
    sizes = (5 + 2.5 * np.sqrt(rows["n"].to_numpy(float))).clip(max=30).round(1)
    marker = {"color": colour, "size": sizes.tolist(), "opacity": 0.6}
    text = [f"{words['dyads']}: {n}" for n in rows["n"]]
    return {"text": text, "marker": marker}


def response_rate_figure(rates: pd.DataFrame, words: Words) -> go.Figure:
    """Grouped bars of the share of mentors and protégés who submitted, per wave (0–100 %)."""
    shown = figure(
        barmode="group",
        xaxis=wave_axis(rates[["wave", "label"]], words),
        yaxis=axis(title={"text": words["submitted"]}, range=[0, 100], ticksuffix="%"),
    )
    if rates.empty or rates["expected"].sum() == 0:
        return empty(shown, words["no_data"])
    for role, group in (("mentor", "mentors"), ("protege", "proteges")):
        shown.add_bar(
            x=rates["wave"].tolist(),
            y=rates[f"{role}_rate"].round(1).tolist(),
            name=words[group],
            marker={"color": ROLE_COLOURS[role]},
            customdata=np.column_stack([rates["label"], rates[group], rates["expected"]]).tolist(),
            hovertemplate=(
                f"%{{customdata[0]}}<br>{words[group]}: %{{customdata[1]}} {words['of']} "
                "%{customdata[2]} (%{y:.0f}%)<extra></extra>"
            ),
        )
    return shown
