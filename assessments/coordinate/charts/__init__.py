"""Plotly figures of the coordinator pages (DESIGN §5), built from DataFrames.

Pure: pandas and plotly only, nothing from Django. Each ``*_figure`` function takes a
frame whose columns its docstring names and the translated ``words``
(``coordinate.presenters.chart_words()``), and returns a ``go.Figure`` that pages embed
with ``figure_data`` + ``json_script`` and ``static/js/charts.js`` draws; ``figure_data``
makes the data's text plain (``plain_text``), so a label is never plotly markup. The
``*_counts``/``response_rates`` helpers shape the cohort frame for both a figure and the
data table that pages show as its text alternative.
"""

from .base import (
    PLACED,
    STATE_COLOURS,
    STATES,
    band_edges,
    figure_data,
    plain_text,
    rel_to_position,
)
from .cohort import (
    agreement_figure,
    response_rate_figure,
    state_distribution_figure,
    transitions_figure,
)
from .counts import (
    counted_rates,
    counted_states,
    response_rates,
    state_counts,
    transition_counts,
)
from .dyad import band_shapes, profile_figure, trajectory_figure
from .program import cohort_history_figure

__all__ = [
    "PLACED",
    "STATES",
    "STATE_COLOURS",
    "agreement_figure",
    "band_edges",
    "band_shapes",
    "cohort_history_figure",
    "counted_rates",
    "counted_states",
    "figure_data",
    "plain_text",
    "profile_figure",
    "rel_to_position",
    "response_rate_figure",
    "response_rates",
    "state_counts",
    "state_distribution_figure",
    "trajectory_figure",
    "transition_counts",
    "transitions_figure",
]
