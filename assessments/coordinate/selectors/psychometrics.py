"""The psychometrics page (DESIGN §4.5): how each subscale measured in one wave.

The one coordinator read of item answers: they go straight into group statistics
(groups under ``rules.MIN_GROUP`` suppressed) and no answer or individual score leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.utils import timezone
from django.utils.translation import get_language

from assessments import selectors as shared
from assessments.measurement import psychometrics, rules
from assessments.models import DyadWaveResult, Subscale, Wave
from relationships.models import Cohort

from .. import presenters
from .frames import PAIRS, score_pairs
from .waves import chosen_wave, cohort_waves, opened


@dataclass
class Psychometrics:
    waves: list[Wave]
    wave: Wave | None
    subscales: list[dict[str, Any]]
    agreement: list[dict[str, Any]]
    min_group: int = rules.MIN_GROUP


def cohort_psychometrics(*, cohort: Cohort, wave_number: int | None = None) -> Psychometrics:
    """DESIGN §4.5 for one wave: subscale statistics by role, and partner agreement.

    Subscale scores follow the program's constants (``min_answered_floor`` …), as its
    stored results do. The wave's answers are read through the shared
    ``scoring_frames``; agreement reads the stored results.
    """
    now = timezone.now()
    waves = opened(cohort_waves(cohorts=[cohort]), now)
    wave = chosen_wave(waves, wave_number, now)
    if wave is None:
        return Psychometrics(waves, None, [], [])
    agreement = presenters.agreement_rows(_agreement(wave))
    stats = _subscale_statistics(cohort, wave)
    if stats is None:  # nothing to describe yet
        return Psychometrics(waves, wave, [], agreement)
    found = Subscale.objects.filter(battery__instrument_id=wave.instrument_id)
    language = get_language()  # a title the instrument lacks in it stays in its first language
    titles = {s.code: s.title_in(language) for s in found.only("code", "title", "translations")}
    rows = presenters.psychometric_rows(stats, titles)
    return Psychometrics(waves, wave, rows, agreement)


def _subscale_statistics(cohort: Cohort, wave: Wave) -> pd.DataFrame | None:
    """``psychometrics.psychometrics`` of the wave's submitted responses, or None
    without any answer."""
    answers, items, responses = shared.scoring_frames(cohort=cohort, wave=wave.number)
    if answers.empty or items.empty:
        return None
    items = items[items["instrument"] == wave.instrument_id].drop(columns="instrument")
    responses = responses.drop(columns="instrument")
    constants = cohort.program.constants
    return psychometrics.psychometrics(answers, items, responses, constants=constants)


def _agreement(wave: Wave) -> pd.DataFrame:
    """``psychometrics.partner_agreement`` of the wave's stored results (one query)."""
    records = list(DyadWaveResult.objects.filter(wave=wave).values_list(*PAIRS))
    frame = pd.DataFrame.from_records(records, columns=list(PAIRS)).astype(float)
    return psychometrics.partner_agreement(score_pairs(frame.assign(wave=wave.number)))
