"""Frames of stored results: one row per expected dyad × wave, read in one query.

Every coordinator page reads the stored ``DyadWaveResult`` rows; nothing here scores a
dyad or reads an item answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from assessments.measurement import placement, rules
from assessments.models import DyadWaveResult, Wave
from relationships.models import Cohort, Dyad

from .waves import waves_table

# Each partner's stored score, ``rel_mentor`` … ``kram_protege``, as partner agreement reads
# them (under ``REL_mentor`` … once renamed by ``score_pairs``).
PAIRS = tuple(f"{score.lower()}_{role}" for score in rules.SCORE_COLUMNS for role in rules.ROLES)
# Stored result fields read into the frames, from the few charts need for every wave to
# everything a single wave's table, alerts, scatter and agreement need.
HISTORY = ("state", "mentor_submitted", "protege_submitted")
ALERTING = (*HISTORY, "transition", *rules.FLAGS)
DETAIL = (*ALERTING, "transition_reliable", "change", "position", *PAIRS)
BOOLEANS = ["transition_reliable", "mentor_submitted", "protege_submitted", *rules.FLAGS]
NUMBERS = ["change", "position", *PAIRS]


def dyads_frame(*, cohorts: Iterable[Cohort], names: bool = False) -> pd.DataFrame:
    """``dyad, cohort, code, is_active`` (and ``mentor, protege``: the names the dyad's
    program gave the partners) of the cohorts' dyads."""
    fields = ["pk", "cohort_id", "research_code", "is_active"]
    fields += ["mentor_name", "protege_name"] if names else []
    rows = Dyad.objects.filter(cohort__in=list(cohorts)).values_list(*fields)
    columns = ["dyad", "cohort", "code", "is_active", "mentor", "protege"][: len(fields)]
    return pd.DataFrame.from_records(list(rows), columns=columns)


def results_frame(
    *, dyads: pd.DataFrame, waves: list[Wave], fields: tuple[str, ...] = DETAIL
) -> pd.DataFrame:
    """One row per expected dyad × wave with stored result ``fields`` (one query).

    A dyad is expected in a wave when it is active or someone in it submitted; a row
    without a stored result is ``unplaced`` with nothing submitted. Columns: those of
    ``dyads_frame``, ``wave`` (number), ``wave_id``, ``fields`` (which must include
    ``HISTORY``) and, when flag fields are read, ``flags`` (sorted tuple of flag names,
    as ``placement.pack_flags`` packs them).
    """
    table = waves_table(waves)
    stored = DyadWaveResult.objects.filter(wave_id__in=table["wave_id"].tolist())
    records = list(stored.values_list("dyad_id", "wave_id", *fields))
    results = pd.DataFrame.from_records(records, columns=["dyad", "wave_id", *fields])
    frame = dyads.merge(table, on="cohort").merge(results, on=["dyad", "wave_id"], how="left")
    frame = filled(frame)
    expected = frame["is_active"] | frame["mentor_submitted"] | frame["protege_submitted"]
    return frame[expected].reset_index(drop=True)


def dyad_results_frame(
    dyad_id: int, waves: list[Wave], results: dict[int, DyadWaveResult]
) -> pd.DataFrame:
    """``results_frame`` columns of one dyad from its results already loaded by wave id."""
    rows = [
        {
            **{name: getattr(results[w.pk], name) for name in DETAIL if w.pk in results},
            "dyad": dyad_id,
            "wave": w.number,
            "wave_id": w.pk,
        }
        for w in waves
    ]
    return filled(pd.DataFrame(rows, columns=["dyad", "wave", "wave_id", *DETAIL]))


def filled(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing results as ``unplaced`` with nothing submitted; flag fields packed."""
    present = set(frame.columns)
    fills: dict[str, Any] = {"state": frame["state"].astype(object).fillna("unplaced")}
    if "transition" in present:
        fills["transition"] = frame["transition"].astype(object).fillna("")
    fills.update(
        {c: frame[c].astype(object).fillna(False).astype(bool) for c in BOOLEANS if c in present}
    )
    fills.update({c: frame[c].astype(float) for c in NUMBERS if c in present})
    frame = frame.assign(**fills)
    flags = [name for name in rules.FLAGS if name in present]
    return frame.assign(flags=placement.pack_flags(frame[flags])) if flags else frame


def score_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """``wave`` and ``REL_mentor`` … ``KRAM_protege`` of a frame holding ``PAIRS``, as
    ``psychometrics.partner_agreement`` reads them."""
    names = {pair: pair.split("_")[0].upper() + "_" + pair.split("_")[1] for pair in PAIRS}
    return frame[["wave", *PAIRS]].rename(columns=names)
