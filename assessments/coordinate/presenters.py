"""How the coordinator pages word and format what the selectors read (DESIGN §5).

The one home of the pages' labels (states, flags, transitions), of the translated
``chart_words()`` the pure chart builders take, of number formatting, and of the
``Chart``/``Table`` objects (figure, caption and data-table alternative) templates place.
Nothing here queries the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.measurement import rules
from assessments.models import AlertFollowUp, DyadWaveResult
from assessments.models.survey import wave_name

from . import charts

FLAG_LABELS = {
    "awaiting_partner": gettext_lazy("Awaiting partner"),
    "borderline": gettext_lazy("Near the boundary"),
    "marginal": gettext_lazy("Marginal career and psychosocial support"),
    "norms_incongruent": gettext_lazy("Communal norms incongruent"),
    "reliable_decline": gettext_lazy("Reliable decline"),
    "reliable_improvement": gettext_lazy("Reliable improvement"),
    "strain_reported": gettext_lazy("Strain reported"),
}
STATE_LABELS = dict(DyadWaveResult.State.choices)
TRANSITION_LABELS = dict(DyadWaveResult.Transition.choices)
REASON_LABELS = dict(AlertFollowUp.Reason.choices)
GROUP_LABELS = {"mentor": gettext_lazy("Mentors"), "protege": gettext_lazy("Protégés")}


def chart_words() -> dict[str, str]:
    """The wording of every figure in the current language: axis titles, legend and
    hover words, each state's and flag's label under its name, and the language's
    notation of numbers (``decimal``: its decimal mark; ``separators``: its decimal and
    thousands marks, as plotly.js's ``layout.separators`` takes them)."""
    decimal = formats.get_format("DECIMAL_SEPARATOR")
    words = {
        "decimal": decimal,
        "separators": decimal + formats.get_format("THOUSAND_SEPARATOR"),
        "mentor": _("Mentor"),
        "protege": _("Protégé"),
        "mentors": str(GROUP_LABELS["mentor"]),
        "proteges": str(GROUP_LABELS["protege"]),
        "dyad": _("Dyad"),
        "wave": _("Wave"),
        "dyads": _("Dyads"),
        "position": _("Continuum position (0–100)"),
        "mentor_rel": _("Mentor REL (1–7)"),
        "protege_rel": _("Protégé REL (1–7)"),
        "identity": _("Partners agree"),
        "submitted": _("Submitted (%)"),
        "score": _("Score (1–7)"),
        "state": _("State"),
        "flags": _("Flags"),
        "none": _("none"),
        "of": _("of"),
        "no_data": _("No results yet."),
        "no_transitions": _("Transitions appear once two waves have results."),
    }
    labels = {**STATE_LABELS, **FLAG_LABELS}
    return {**words, **{key: str(label) for key, label in labels.items()}}


def number(value: Any, digits: int = 2) -> str:
    """``value`` rounded to ``digits`` decimals and written as the active language writes
    numbers ("4.25" in English, "4,25" in French and Spanish), or an en dash when it is
    missing. For people only: files and chart data keep the decimal point."""
    if value is None or pd.isna(value):
        return "–"
    return formats.number_format(Decimal(f"{value:.{digits}f}"), decimal_pos=digits)


def percent(value: float | None) -> str:
    """A share already in percent, rounded, or an en dash when it is missing."""
    return "–" if value is None or pd.isna(value) else f"{number(value, 0)} %"


def figure_json(shown: go.Figure, words: dict[str, str]) -> dict[str, Any]:
    """``charts.figure_data`` of ``shown``, whose axes and hover text write numbers in
    the notation of ``words`` (the figure's data stay plain numbers)."""
    shown.update_layout(separators=words["separators"])
    return charts.figure_data(shown)


def flag_labels(names: Any) -> list[str]:
    return [FLAG_LABELS[name] for name in names]


@dataclass(frozen=True)
class Table:
    """A data table as templates render it: caption, column headers, rows of cells."""

    caption: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class Chart:
    """A figure ready for ``json_script``, its caption and its data-table alternative."""

    id: str
    title: str
    caption: str
    figure: dict[str, Any]
    table: Table
    columns: int = 6  # of the page grid's 12, on large screens

    @property
    def data_id(self) -> str:
        return f"{self.id}-data"


# --- cohort charts -----------------------------------------------------------------------


def state_chart(counts: pd.DataFrame, words: dict[str, str]) -> Chart:
    """Dyads per state and wave from ``charts.state_counts`` output."""
    rows = [
        [label, *group.set_index("state").loc[list(charts.STATES), "n"].astype(int).tolist()]
        for (_wave, label), group in counts.groupby(["wave", "label"], sort=False)
    ]
    title = _("Dyads per state and wave")
    return Chart(
        id="chart-states",
        title=title,
        caption=_("Stacked bars: how many dyads sit in each state at each wave."),
        figure=figure_json(charts.state_distribution_figure(counts, words), words),
        table=Table(title, [_("Wave"), *[words[s] for s in charts.STATES]], rows),
    )


def transition_chart(links: pd.DataFrame, waves: pd.DataFrame, words: dict[str, str]) -> Chart:
    """Movement between consecutive waves from ``charts.transition_counts`` output."""
    label = dict(zip(waves["wave"], waves["label"], strict=True))
    rows = [
        [label[r.wave_from], words[r.state_from], label[r.wave_to], words[r.state_to], r.n]
        for r in links.itertuples()
    ]
    headers = [_("From wave"), _("From state"), _("To wave"), _("To state"), _("Dyads")]
    return Chart(
        id="chart-transitions",
        title=_("Movement between consecutive waves"),
        caption=_("Each band carries the dyads that moved from one state to the next."),
        figure=figure_json(charts.transitions_figure(links, waves, words), words),
        table=Table(_("Dyads moving between states"), headers, rows),
        columns=8,
    )


def agreement_chart(
    points: pd.DataFrame,
    wave: Any,
    by_state: pd.DataFrame,
    rel: tuple[int, float | None],
    words: dict[str, str],
) -> Chart:
    """The partners' REL scatter of one wave from ``points`` (bins of dyads; see
    ``charts.agreement_figure``). ``by_state`` has ``state, n, rel_mentor, rel_protege``
    (means) for the data table; ``rel`` is ``(pairs, Pearson r)``, r None when
    suppressed, else put in the caption."""
    means = by_state.set_index("state")
    rows = [
        [words[s], int(means.at[s, "n"]), number(means.at[s, "rel_mentor"]),
         number(means.at[s, "rel_protege"])]
        for s in charts.STATES
        if s in means.index
    ]  # fmt: skip
    caption = _(
        "Each dot is a group of dyads at %(wave)s, larger for more dyads: the mentor's "
        "REL across, the protégé's REL up, to the nearest quarter point. Dots on the "
        "dashed line are dyads whose partners see the relationship alike."
    ) % {"wave": wave or _("the current wave")}
    pairs, r = rel
    if r is not None:
        caption += " " + _("Pearson r = %(r)s over %(n)d dyads.") % {"r": number(r), "n": pairs}
    headers = [_("State"), _("Dyads"), _("Mean mentor REL"), _("Mean protégé REL")]
    return Chart(
        id="chart-agreement",
        title=_("Partner agreement on relational quality"),
        caption=caption,
        figure=figure_json(charts.agreement_figure(points, words), words),
        table=Table(_("Mean REL of each partner by state"), headers, rows),
        columns=4,
    )


def rate_chart(rates: pd.DataFrame, words: dict[str, str]) -> Chart:
    """Response rates per wave from ``charts.response_rates`` output."""
    rows = [
        [r.label, r.expected, r.mentors, r.proteges, percent(r.rate)] for r in rates.itertuples()
    ]
    headers = [_("Wave"), _("Dyads expected"), _("Mentors"), _("Protégés"), _("Response rate")]
    return Chart(
        id="chart-rates",
        title=_("Response rate per wave"),
        caption=_("Share of the expected mentors and protégés who submitted."),
        figure=figure_json(charts.response_rate_figure(rates, words), words),
        table=Table(_("Responses per wave"), headers, rows),
    )


# --- program chart -----------------------------------------------------------------------


def history_chart(history: pd.DataFrame, words: dict[str, str]) -> Chart:
    """The cohorts' mean REL wave by wave from ``cohort, wave, mean_rel, n`` rows (``n``:
    dyads where both partners have a REL score), cohorts in drawing order."""
    words = {**words, "mean_rel": _("Mean REL (1–7)")}
    rows = [[r.cohort, wave_name(r.wave), number(r.mean_rel), r.n] for r in history.itertuples()]
    title = _("Mean relational score of each cohort, wave by wave")
    headers = [_("Cohort"), _("Wave"), _("Mean REL"), _("Dyads")]
    return Chart(
        id="chart-cohorts",
        title=title,
        caption=_(
            "One line per cohort: the mean REL (1–7) of its dyads where both partners have "
            "one, at each wave number."
        ),
        figure=figure_json(charts.cohort_history_figure(history, words), words),
        table=Table(title, headers, rows),
        columns=12,
    )


# --- dyad charts -------------------------------------------------------------------------


def trajectory_chart(
    frame: pd.DataFrame, edges: tuple[float, float], words: dict[str, str]
) -> Chart:
    """The dyad's path from ``charts.trajectory_figure``'s frame, bands at ``edges``."""
    rows = [
        [
            row["label"],
            words.get(row["state"], row["state"]),
            number(row["position"], 0),
            number(charts.rel_to_position(row["rel_mentor"]), 0),
            number(charts.rel_to_position(row["rel_protege"]), 0),
            ", ".join(words.get(flag, flag) for flag in row["flags"]) or "–",
        ]
        for row in frame.to_dict("records")
    ]
    cuts = {
        name: number(edge * rules.POSITION_SPAN / 100 + rules.POSITION_MIN, 1)
        for name, edge in zip(("low", "high"), edges, strict=True)
    }
    caption = _(
        "Continuum position per wave (0–100). The bands mark the REL cuts of placement "
        "(%(low)s and %(high)s); the dot's colour is the placed state, which also "
        "weighs PSY, strain and each partner's own scores."
    )
    headers = [_("Wave"), _("State"), _("Dyad"), _("Mentor REL"), _("Protégé REL"), _("Flags")]
    return Chart(
        id="chart-trajectory",
        title=_("Trajectory on the continuum"),
        caption=caption % cuts,
        figure=figure_json(charts.trajectory_figure(frame, words, edges), words),
        table=Table(_("Position per wave (0–100)"), headers, rows),
    )


def profile_chart(profile: pd.DataFrame, wave: Any, words: dict[str, str]) -> Chart:
    """Both partners' REL subscales (``subscale, title, mentor, protege``) at ``wave``."""
    cells = [[r.title, number(r.mentor), number(r.protege)] for r in profile.itertuples()]
    return Chart(
        id="chart-profile",
        title=_("Relational functions profile"),
        caption=_("Each partner's REL subscale scores (1–7) at %(wave)s.")
        % {"wave": wave or _("the latest wave")},
        figure=figure_json(charts.profile_figure(profile, words), words),
        table=Table(_("REL subscale scores"), [_("Subscale"), _("Mentor"), _("Protégé")], cells),
    )


def scores_table(scores: pd.DataFrame, waves: list[Any]) -> Table:
    """``scores`` has one row per wave (in ``waves``' order) and a column per battery ×
    side (``rel_mentor`` …); the table has a row per battery × side, a column per wave."""
    sides = {"mentor": _("mentor"), "protege": _("protégé"), "dyad": _("dyad")}
    rows = [
        [f"{battery} {sides[side]}", *[number(v) for v in scores[f"{battery.lower()}_{side}"]]]
        for battery in rules.SCORE_COLUMNS
        for side in sides
    ]
    caption = _("Battery scores per wave (REL, CAR, PSY, OVR and KRAM on 1–7; STR on 1–5)")
    return Table(caption, [_("Score"), *[str(w) for w in waves]], rows)


# --- rows of the tables ------------------------------------------------------------------


def dyad_table_rows(rows: list[dict[str, Any]], reasons: dict[int, list[str]]) -> list[dict]:
    """Rows of ``dyad_rows`` plus ``state_label``, ``flags`` and open ``alerts`` (labels);
    ``reasons`` holds each dyad's open alert reasons."""
    return [
        {
            **row,
            "state_label": STATE_LABELS.get(row["state"], row["state"]),
            "flags": flag_labels(name for name in rules.FLAGS if row[f"flag_{name}"]),
            "alerts": [REASON_LABELS[reason] for reason in reasons.get(row["pk"], [])],
        }
        for row in rows
    ]


def alert_rows(alerts: pd.DataFrame | list[dict], labels: dict[int, str]) -> list[dict[str, Any]]:
    """Alerts (with the dyads' names and ``raised``; a frame or dicts) as template rows,
    in their order; ``labels`` names each wave number."""
    rows = alerts.to_dict("records") if isinstance(alerts, pd.DataFrame) else alerts
    return [
        {
            **row,
            "wave_label": labels.get(row["wave"], row["wave"]),
            "reason_label": REASON_LABELS[row["reason"]],
            "text": _(rules.ALERT_TEXT[row["reason"]]),
            "raised": _moment(row["raised"]),
            "at": _moment(row["at"]),
        }
        for row in rows
    ]


def _moment(value: Any) -> Any:
    """A datetime, or None for a missing one (pandas' NaT included)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def psychometric_rows(stats: pd.DataFrame, titles: dict[str, str]) -> list[dict[str, Any]]:
    """``psychometrics.psychometrics`` output as template rows, with subscale titles."""
    return [
        {
            "subscale": row["subscale"],
            "title": titles.get(row["subscale"], row["subscale"]),
            "role": str(GROUP_LABELS.get(row["role"], row["role"])),
            "suppressed": bool(row["suppressed"]),
            "n": int(row["n"]),
            "mean": number(row["mean"]),
            "sd": number(row["sd"]),
            "alpha": number(row["alpha"]),
            "alpha_n": int(row["alpha_n"]),
            "missing": percent(100 * row["missing_share"]),
            "na": percent(100 * row["na_share"]),
        }
        for row in stats.to_dict("records")
    ]


def agreement_rows(agreement: pd.DataFrame) -> list[dict[str, Any]]:
    """``psychometrics.partner_agreement`` output of one wave as template rows."""
    return [
        {
            "battery": row["battery"],
            "n": int(row["n"]),
            "r": number(row["r"]),
            "suppressed": bool(row["suppressed"]),
        }
        for row in agreement.to_dict("records")
    ]
