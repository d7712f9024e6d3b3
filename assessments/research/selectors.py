"""Reads behind the research files and the response import: chunked, ordered, research
codes only. The long file's PostgreSQL ``COPY`` path is in ``pgcopy``."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import connection
from django.db.models import Case, CharField, Exists, F, OuterRef, Value, When

from relationships.models import Cohort

from .. import selectors
from ..measurement.rules import SCORE_COLUMNS
from ..models import Answer, DyadWaveResult, Instrument, Item, Response, Wave
from .files import SIDES
from .longfile import Catalogue, ItemSpec

CHUNK = 2000
UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(UTC_FORMAT)


def long_records(*, cohort: Cohort) -> Iterator[tuple]:
    """Answers of submitted responses in ``files.LONG_COLUMNS`` order, one query."""
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
            "response__language",
        )
    )
    head = (cohort.program.slug, cohort.slug)
    for row in rows.iterator(chunk_size=CHUNK):
        yield (*head, *row[:11], _utc(row[11]), row[12])


DYADS_PER_FRAME = 500


@dataclass(frozen=True)
class Batch:
    """Submitted responses of one wave and at most ``DYADS_PER_FRAME`` dyads.

    ``responses``: ``RESPONSES_COLUMNS`` plus the wave's ``instrument``; ``answers``:
    ``ANSWERS_COLUMNS``; ``codes``: ``dyad_code, respondent, submitted_at`` (UTC text),
    ``language``, indexed by response.
    """

    responses: pd.DataFrame
    answers: pd.DataFrame
    codes: pd.DataFrame


def respondent_catalogue(*, cohort: Cohort) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Items of every instrument version answered in the cohort (``items_frame``: one row
    per version and item, with ``instrument``), then the item codes and the subscale codes
    of all versions together, in catalogue order."""
    instruments = (
        Response.objects.submitted()
        .filter(wave__cohort=cohort)
        .order_by()
        .values_list("wave__instrument_id", flat=True)
        .distinct()
    )
    items = selectors.items_frame(instrument_ids=list(instruments))
    codes = list(dict.fromkeys(items["item"]))
    subscales = [s for s in dict.fromkeys(items["subscale"]) if "-" in s]
    return items, codes, subscales


def respondent_batches(*, cohort: Cohort, items: pd.DataFrame) -> Iterator[Batch]:
    """The cohort's submitted responses in (wave, dyad code) order, batch by batch.

    One batch per wave and ``DYADS_PER_FRAME`` dyads, so memory stays flat however big
    the cohort; both partners of a dyad are always in the same batch. ``items`` is the
    first frame of ``respondent_catalogue``.
    """
    slices = (
        Response.objects.submitted()
        .filter(wave__cohort=cohort)
        .order_by("wave__number", "dyad__research_code")
        .values_list("wave__number", "dyad_id")
        .distinct()
    )
    for wave, pairs in itertools.groupby(slices.iterator(chunk_size=CHUNK), key=lambda p: p[0]):
        dyads = (dyad for _, dyad in pairs)
        while dyad_ids := list(itertools.islice(dyads, DYADS_PER_FRAME)):
            yield _batch(cohort, wave, dyad_ids, items)


def _batch(cohort: Cohort, wave: int, dyad_ids: list[int], items: pd.DataFrame) -> Batch:
    responses = selectors.responses_frame(cohort=cohort, dyad_ids=dyad_ids, wave=wave)
    answers = selectors.answers_frame(
        cohort=cohort, dyad_ids=dyad_ids, wave=wave, responses=responses, items=items
    )
    return Batch(responses, answers, _response_codes(cohort, dyad_ids, wave))


def _response_codes(cohort: Cohort, dyad_ids: list[int], wave: int) -> pd.DataFrame:
    rows = (
        Response.objects.submitted()
        .filter(wave__cohort=cohort, wave__number=wave, dyad_id__in=dyad_ids)
        .order_by()
        .values_list(
            "id", "dyad__research_code", "respondent__research_code", "submitted_at", "language"
        )
    )
    frame = pd.DataFrame.from_records(
        [(pk, dyad, person, _utc(at), language) for pk, dyad, person, at, language in rows],
        columns=["response", "dyad_code", "respondent", "submitted_at", "language"],
    )
    return frame.set_index("response")


def dyad_records(*, cohort: Cohort) -> Iterator[dict[str, Any]]:
    """Stored results with at least one submission, ordered by wave and dyad code."""
    scores = {f"{x}_{side}": F(f"{x.lower()}_{side}") for x in SCORE_COLUMNS for side in SIDES}
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
            mentor_code=_code_if_answered(cohort, "mentor"),
            protege_code=_code_if_answered(cohort, "protege"),
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


def _code_if_answered(cohort: Cohort, role: str):
    """The partner's research code, or empty when they submitted nothing in the cohort.

    Such a code links to no row of any research file; leaving it out also makes the
    dyad file survive an export, import, export round trip byte for byte, since the
    long file (answers only) cannot carry a person without answers.
    """
    answered = Response.objects.submitted().filter(
        wave__cohort=cohort, dyad=OuterRef("dyad"), role=role
    )
    return Case(
        When(Exists(answered), then=F(f"dyad__{role}__research_code")),
        default=Value(""),
        output_field=CharField(),
    )


def codebook_items(*, cohort: Cohort) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Items of the instruments the cohort's waves use, with both wordings and the
    labels of their answer scale's points; then the languages after the instruments'
    first ones, each with ``text_mentor_<code>`` and ``text_protege_<code>`` columns
    (empty where an item's instrument lacks it); then every language of the instruments
    and of the cohort's submitted responses, the values of the files' ``language``.
    """
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
            "subscale__battery__scale_labels",
            "translations",
            "subscale__battery__instrument__languages",
        )  # fmt: skip
    )
    columns = ["item", "text_mentor", "text_protege", "battery", "subscale", "reverse_keyed",
               "scale_min", "scale_max", "scale_labels", "translations", "languages"]  # fmt: skip
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    every = list(dict.fromkeys(code for found in frame["languages"] for code in found))
    more = list(dict.fromkeys(code for found in frame["languages"] for code in found[1:]))
    frame = frame.drop_duplicates("item")
    spoken = Response.objects.submitted().filter(wave__cohort=cohort).order_by("language")
    every += [c for c in spoken.values_list("language", flat=True).distinct() if c not in every]
    for code in more:
        for side in ("mentor", "protege"):
            frame[f"text_{side}_{code}"] = [
                _wording(record, side, code) for record in frame.to_dict("records")
            ]
    return frame.drop(columns=["translations", "languages"]), more, every


def _wording(item: dict[str, Any], side: str, code: str) -> str:
    """An item's ``side`` wording in ``code``: its translation, its plain text when
    ``code`` is its instrument's first language, else empty."""
    if item["languages"][0] == code:
        return item[f"text_{side}"]
    return (item["translations"].get(code) or {}).get(side, "")


def results_outdated(*, cohort: Cohort, rule_version: str) -> bool:
    """Whether the stored results of the cohort disagree with scoring under
    ``rule_version`` now: a result carries another rule version, or a submitted response
    has no result of this version computed after it. One query: a count over a hash
    join (an existence test made PostgreSQL probe the results once per response)."""
    result, response = DyadWaveResult._meta.db_table, Response._meta.db_table
    wave = Wave._meta.db_table
    sql = f"""
        SELECT (SELECT count(*) FROM "{result}" r JOIN "{wave}" w ON w.id = r.wave_id
                WHERE w.cohort_id = %(cohort)s AND r.rule_version <> %(version)s)
             + (SELECT count(*) FROM "{response}" s JOIN "{wave}" w ON w.id = s.wave_id
                LEFT JOIN "{result}" r ON r.dyad_id = s.dyad_id AND r.wave_id = s.wave_id
                     AND r.rule_version = %(version)s AND r.computed_at >= s.submitted_at
                WHERE w.cohort_id = %(cohort)s AND s.status = 'submitted'
                  AND r.dyad_id IS NULL)"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"cohort": cohort.pk, "version": rule_version})
        return cursor.fetchone()[0] > 0


def instrument_languages() -> dict[tuple[str, int], list[str]]:
    """The languages of every stored instrument by (code, version), first language first."""
    return {
        (code, version): languages or ["en"]
        for code, version, languages in Instrument.objects.values_list(
            "code", "version", "languages"
        )
    }


def item_catalogue() -> Catalogue:
    """Every stored item by (instrument code, version) and item code, as ``longfile``
    checks a file against it."""
    catalogue: Catalogue = defaultdict(dict)
    items = Item.objects.select_related("subscale__battery__instrument")
    for item in items:
        battery = item.subscale.battery
        key = (battery.instrument.code, battery.instrument.version)
        catalogue[key][item.code] = ItemSpec(
            battery.code, item.subscale.code, item.reverse_keyed, item.allow_na,
            battery.scale_min, battery.scale_max,
        )  # fmt: skip
    return dict(catalogue)
