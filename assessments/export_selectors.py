"""Reads behind the research files: chunked, ordered, research codes only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
from django.db.models import F

from relationships.models import Cohort

from . import scoring, selectors
from .models import Answer, DyadWaveResult, Item, Response

CHUNK = 2000
UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(UTC_FORMAT)


def long_records(*, cohort: Cohort) -> Iterator[tuple]:
    """Answers of submitted responses in ``exports.LONG_COLUMNS`` order, one query."""
    rows = (
        Answer.objects.filter(response__wave__cohort=cohort, response__status="submitted")
        .order_by(
            "response__wave__number",
            "response__dyad__research_code",
            "response__role",
            "item__subscale__battery__order",
            "item__subscale__order",
            "item__order",
        )
        .values_list(
            "response__wave__number",
            "response__dyad__research_code",
            "response__respondent__research_code",
            "response__role",
            "response__wave__instrument__code",
            "response__wave__instrument__version",
            "item__code",
            "item__subscale__battery__code",
            "item__subscale__code",
            "item__reverse_keyed",
            "value",
            "response__submitted_at",
        )
    )
    head = (cohort.program.slug, cohort.slug)
    for row in rows.iterator(chunk_size=CHUNK):
        yield (*head, *row[:11], _utc(row[11]))


def respondent_frame(*, cohort: Cohort) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Scores and raw answers per submitted response, plus item and subscale codes."""
    responses = selectors.responses_frame(cohort=cohort)
    items = selectors.items_frame(instrument_ids=responses["instrument"].unique().tolist())
    answers = selectors.answers_frame(cohort=cohort, responses=responses, items=items)
    catalogue = items.drop_duplicates("item").drop(columns=["instrument", "item_id"])
    scores = scoring.respondent_scores(
        answers, catalogue, responses.drop(columns="instrument"), cohort.program.constants
    )
    raw = answers.pivot(index="response", columns="item", values="value")
    codes = _response_codes(cohort)
    subscales = list(dict.fromkeys(catalogue["subscale"]))
    frame = scores.join(raw.add_suffix("#raw"), how="left").join(codes, how="left")
    frame = frame.reset_index().sort_values(["wave", "dyad_code", "role"])
    frame = frame.assign(program=cohort.program.slug, cohort=cohort.slug)
    frame["dyad"] = frame["dyad_code"]
    return frame, list(catalogue["item"]), [s for s in subscales if "-" in s]


def _response_codes(cohort: Cohort) -> pd.DataFrame:
    rows = (
        Response.objects.submitted()
        .filter(wave__cohort=cohort)
        .order_by()
        .values_list("id", "dyad__research_code", "respondent__research_code", "submitted_at")
    )
    frame = pd.DataFrame.from_records(
        [(pk, dyad, person, _utc(at)) for pk, dyad, person, at in rows],
        columns=["response", "dyad_code", "respondent", "submitted_at"],
    )
    return frame.set_index("response")


def dyad_records(*, cohort: Cohort) -> Iterator[dict[str, Any]]:
    """Stored results with at least one submission, ordered by wave and dyad code."""
    scores = {
        f"{x}_{side}": F(f"{x.lower()}_{side}")
        for x in ("REL", "CAR", "PSY", "STR", "OVR", "KRAM")
        for side in ("mentor", "protege", "dyad", "diff")
    }
    rows = (
        DyadWaveResult.objects.filter(wave__cohort=cohort)
        .exclude(mentor_submitted=False, protege_submitted=False)
        .order_by("wave__number", "dyad__research_code")
        .values(
            "state",
            "congruence",
            "position",
            "change",
            "transition",
            "rule_version",
            *DyadWaveResult.FLAG_FIELDS,
            wave_number=F("wave__number"),
            dyad_code=F("dyad__research_code"),
            mentor_code=F("dyad__mentor__research_code"),
            protege_code=F("dyad__protege__research_code"),
            cn=F("cn_gap"),
            **scores,
        )  # fmt: skip
    )
    for row in rows.iterator(chunk_size=CHUNK):
        yield {
            **row,
            "program": cohort.program.slug,
            "cohort": cohort.slug,
            "wave": row["wave_number"],
            "dyad": row["dyad_code"],
            "mentor": row["mentor_code"],
            "protege": row["protege_code"],
            "CN_gap": row["cn"],
            "flags": [f for f in DyadWaveResult.FLAG_FIELDS if row[f]],
        }


def codebook_items(*, cohort: Cohort) -> pd.DataFrame:
    """Items of the instruments the cohort's waves use, with both wordings."""
    rows = (
        Item.objects.filter(subscale__battery__instrument__waves__cohort=cohort)
        .distinct()
        .order_by("subscale__battery__order", "subscale__order", "order")
        .values_list(
            "code",
            "text_mentor",
            "text_protege",
            "subscale__battery__code",
            "subscale__code",
            "reverse_keyed",
            "subscale__battery__scale_min",
            "subscale__battery__scale_max",
        )  # fmt: skip
    )
    columns = ["item", "text_mentor", "text_protege", "battery", "subscale", "reverse_keyed",
               "scale_min", "scale_max"]  # fmt: skip
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    return frame.drop_duplicates("item")
