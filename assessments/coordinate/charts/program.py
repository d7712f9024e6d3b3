"""The program page's figure (DESIGN §5): its cohorts' mean relational score wave by wave.
Pure: pandas and plotly only."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .base import REL_AXIS, Words, axis, empty, figure, numbers

# Distinct from the state colours, so that a line is never read as a state.
COHORT_COLOURS = ("#1f3a5f", "#5b8cc9", "#6f42c1", "#d63384", "#fd7e14", "#20c997", "#495057")


def cohort_history_figure(history: pd.DataFrame, words: Words) -> go.Figure:
    """One line per cohort of the mean dyad REL (1–7) at each wave number, from
    ``cohort, wave, mean_rel`` rows (``mean_rel`` NaN where no dyad has one), cohorts in
    the order their lines are drawn and listed."""
    waves = sorted(history["wave"].unique().tolist()) if not history.empty else [1]
    shown = figure(
        xaxis=axis(
            title={"text": words["wave"]},
            tickmode="array",
            tickvals=waves,
            ticktext=[str(number) for number in waves],  # the axis title says "Wave"
            range=[min(waves) - 0.3, max(waves) + 0.3],
            showgrid=False,
        ),
        yaxis=axis(title={"text": words["mean_rel"]}, range=list(REL_AXIS)),
    )
    if history.empty or history["mean_rel"].isna().all():
        return empty(shown, words["no_data"])
    for index, (cohort, rows) in enumerate(history.groupby("cohort", sort=False)):
        shown.add_scatter(
            x=rows["wave"].tolist(),
            y=numbers(rows["mean_rel"]),
            mode="lines+markers",
            name=str(cohort),
            line={"color": COHORT_COLOURS[index % len(COHORT_COLOURS)], "width": 2},
            marker={"size": 8},
            connectgaps=False,
            hovertemplate=(
                f"%{{fullData.name}}<br>{words['wave']} %{{x}}: %{{y:.2f}}<extra></extra>"
            ),
        )
    return shown
