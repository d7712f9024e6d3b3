"""The one scoring pipeline: answers → respondent scores → dyad values → placement →
change (DESIGN §4). Services storing results, research files and tests all call
``score`` (``score_dyad`` for a single dyad: the same rows, computed without frames);
nothing else assembles these steps.

Worked example (DESIGN §4.6; the same dyad in ``docs/scoring.md``, asserted by
``tests/measurement/test_pipeline.py``). One dyad, wave 1, on the default instrument's layout:
REL has six subscales, CAR five and PSY four, of three items each on the 1–7 scale;
STR has six items on the 1–5 frequency scale; OVR three items on 1–7. REL-CN-3 is
reverse-keyed (``r``); ``na`` is "not applicable" and ``--`` a skipped item. Each side
lists the raw answers to items 1, 2, 3 (STR 1–6) and then the subscale score::

    subscale  mentor                    protégé
    REL-LG    6  6  5   5.6667          6  5  5   5.3333
    REL-IN    6  5  6   5.6667          5  5  6   5.3333
    REL-AF    6  6  6   6.0000          6  5  --  5.5000   skipped: 2 of 3 still valid
    REL-CN    5  6  2r  5.6667          5  5  3r  5.0000   2r → 1+7−2 = 6; 3r → 5
    REL-SI    6  5  5   5.3333          6  6  5   5.6667
    REL-TC    6  6  7   6.3333          5  6  5   5.3333
    CAR-SP    5  5  4   4.6667          5  4  4   4.3333
    CAR-EX    5  4  4   4.3333          4  4  5   4.3333
    CAR-CO    6  6  5   5.6667          6  5  6   5.6667
    CAR-PR    5  na 4   4.5000          5  5  4   4.6667   n/a: mean of the other two
    CAR-CH    6  5  5   5.3333          5  5  6   5.3333
    PSY-RM    6  6  5   5.6667          6  5  6   5.6667
    PSY-AC    6  7  6   6.3333          6  6  6   6.0000
    PSY-CS    5  6  5   5.3333          5  5  6   5.3333
    PSY-FR    6  5  6   5.6667          5  6  5   5.3333
    STR       1 1 2 1 1 1   1.1667      1 1 1 2 1 1   1.1667
    OVR       6  6  7   6.3333          6  6  6   6.0000

Batteries (every subscale is valid, so each battery is the plain mean of its subscales)::

    score  mentor                                        protégé
    REL    (5.6667+5.6667+6+5.6667+5.3333+6.3333)/6      (5.3333+5.3333+5.5+5+5.6667+5.3333)/6
           = 52/9 = 5.7778                               = 193/36 = 5.3611
    CAR    (4.6667+4.3333+5.6667+4.5+5.3333)/5 = 4.9000  (4.3333+4.3333+5.6667+4.6667+5.3333)/5
                                                         = 73/15 = 4.8667
    PSY    (5.6667+6.3333+5.3333+5.6667)/4 = 5.7500      (5.6667+6+5.3333+5.3333)/4 = 5.5833
    STR    7/6 = 1.1667                                  7/6 = 1.1667
    OVR    6.3333                                        6.0000
    KRAM   (4.9 + 5.75)/2 = 5.3250                       (4.8667 + 5.5833)/2 = 5.2250

Dyad values (``dyad`` = mean of the partners, ``diff`` = protégé − mentor)::

    REL_dyad = (5.7778 + 5.3611)/2 = 401/72 = 5.5694     REL_diff = -0.4167 → aligned (< 1.07)
    CAR_dyad = 4.8833  CAR_diff = -0.0333    PSY_dyad = 5.6667  PSY_diff = -0.1667
    STR_dyad = 1.1667  STR_diff = 0.0000     OVR_dyad = 6.1667  OVR_diff = -0.3333
    KRAM_dyad = 5.2750 KRAM_diff = -0.1000
    CN_gap = |5.0000 − 5.6667| = 0.6667 (< 1.5: norms congruent)
    position = 100·(5.5694 − 1)/6 = 76.16

Placement, in order: both partners have REL and PSY (placed); no STR ≥ 3.0 and nobody
has both REL and PSY < 4.0 (not dysfunctional); the mentor meets REL ≥ 5.5 and PSY ≥
5.0 but the protégé's REL 5.3611 < 5.5 (not relational, although no REL subscale is
below 4.5: the lowest is the protégé's REL-CN 5.0), so the state is **traditional**;
the lower KRAM 5.2250 ≥ 4.5, so not ``marginal``. Moved 0.39 towards better quality
the protégé's REL becomes 5.7511 ≥ 5.5 (PSY 5.9733, lowest REL subscale 5.39, STR
0.78) and the dyad would be relational; moved 0.39 towards worse it stays traditional
(REL 4.9711, PSY 5.1933). One of the two differs, so the flag is ``borderline``.
Result: state ``traditional``, flags ``("borderline",)``, position 76.16, congruence
``aligned``; as the dyad's first placed wave, transition ``first`` and change NaN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import change, placement, scoring, single
from .rules import Constants

INSTRUMENT = "instrument"


@dataclass(frozen=True)
class Scored:
    """``respondents``: ``scoring.respondent_scores`` columns, indexed by ``response``.
    ``dyads``: ``placement.place`` and ``change.changes`` columns plus ``rule_version``,
    indexed by ``(dyad, wave)``. Both computed with the same ``constants``."""

    respondents: pd.DataFrame
    dyads: pd.DataFrame
    constants: Constants

    @property
    def rule_version(self) -> str:
        return self.constants.version_label


def score(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    responses: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    constants: Constants | None = None,
) -> Scored:
    """Score responses and place every dyad × wave.

    Frames as in ``scoring.respondent_scores``. When ``items`` and ``responses`` carry an
    ``instrument`` column, each response is scored against its own instrument's
    catalogue (keys, item counts), so a cohort may change instrument version between
    waves. ``pairs`` (``dyad, wave``) adds dyad × waves that have no response yet.
    """
    c = constants or Constants()
    respondents = respondent_scores(answers, items, responses, c)
    values = placement.dyad_values(respondents, pairs, c)
    dyads = change.changes(placement.place(values, c), c).assign(rule_version=c.version_label)
    return Scored(respondents=respondents, dyads=dyads, constants=c)


def respondent_scores(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    responses: pd.DataFrame,
    constants: Constants | None = None,
) -> pd.DataFrame:
    """``scoring.respondent_scores`` per instrument, concatenated in response order."""
    if INSTRUMENT not in responses.columns or INSTRUMENT not in items.columns:
        return scoring.respondent_scores(answers, items, responses, constants)
    frames = [
        scoring.respondent_scores(
            answers[answers["response"].isin(group["response"])],
            items[items[INSTRUMENT] == instrument],
            group,
            constants,
        )
        for instrument, group in responses.groupby(INSTRUMENT, sort=True)
    ]
    if not frames:
        return scoring.respondent_scores(answers, items, responses, constants)
    return pd.concat(frames)


def score_dyad(
    *,
    dyad: int,
    responses: Sequence[single.Submitted],
    items: Mapping[int, Sequence[single.Item]],
    waves: Sequence[int],
    constants: Constants | None = None,
) -> list[dict[str, Any]] | None:
    """``score(...).dyads.reset_index()`` rows (as dicts, by wave) of one dyad: the same
    rules on plain values (``single.dyad_rows``), without a frame, for a submit.

    ``responses`` are the dyad's submitted responses with their answers, ``items`` each
    instrument's catalogue and ``waves`` the wave numbers that need a row (``pairs``).
    None when ``score`` would refuse the answers (it says why).
    """
    c = constants or Constants()
    return single.dyad_rows(dyad=dyad, responses=responses, items=items, waves=waves, constants=c)
