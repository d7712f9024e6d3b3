"""Keeping a cohort's aggregates (``CohortCount``, ``OpenAlert``) in step with its results.

- ``rescored(cohort=, dyad_ids=)`` wraps every write of some dyads' results (a submit, a
  recompute chunk, an import, an erasure): afterwards it adds those dyads' new counts
  minus their old ones (``results.tallies``) and rewrites their open alerts. The rest of
  the cohort is never read, so a submit costs the same in any cohort.
- ``follow_up_recorded`` does the same for one new follow-up.
- ``rebuild`` computes everything from the stored rows in two set-based statements
  (``results.rebuild``); ``ensure_current`` (each coordinator page) calls it when the
  aggregates are missing, or when the cohort's dyads, waves, follow-ups or alert
  constants changed some other way (one query finds out).

Locking: writers of results hold the cohort's ``CohortSummary`` row ``FOR SHARE`` until
they commit and a rebuild holds it ``FOR UPDATE``. Submits therefore never wait for one
another, and a rebuild reads every result committed before it and none half-written.
Counts go to the shard ``dyad id % SHARDS``, so two submits seldom add to the same row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from relationships.models import Cohort, Dyad

from ..models import (
    AlertFollowUp,
    CohortCount,
    CohortSummary,
    DyadWaveResult,
    OpenAlert,
    Response,
    Wave,
)
from . import tallies
from .rebuild import EPOCH, rebuild_rows
from .tallies import Cell, Counts, DyadFacts, WaveFacts

SHARDS = 8
CELL_FIELDS = (
    "state", "mentor_submitted", "protege_submitted", "transition", "strain_reported",
    "reliable_decline", "norms_incongruent", "rel_mentor", "rel_protege",
)  # fmt: skip


# --- reading the facts ----------------------------------------------------------------


def wave_facts(waves: Iterable[Wave]) -> list[WaveFacts]:
    """The waves as the tallies take them, in number order."""
    return sorted((WaveFacts(w.pk, w.number, w.closes_at) for w in waves), key=lambda w: w.number)


def _cohort_waves(cohort: Cohort) -> list[WaveFacts]:
    rows = Wave.objects.filter(cohort=cohort).order_by("number")
    return [WaveFacts(*row) for row in rows.values_list("pk", "number", "closes_at")]


def dyad_facts(
    *, cohort: Cohort, waves: Sequence[WaveFacts], dyad_ids: Sequence[int] | None = None
) -> list[DyadFacts]:
    """The cohort's dyads (or ``dyad_ids``) with their stored results, later submission
    times and follow-ups at ``waves`` (four queries)."""
    wave_ids = [w.id for w in waves]
    dyads = Dyad.objects.filter(cohort=cohort).order_by("pk")
    scope: dict = {"wave_id__in": wave_ids}
    if dyad_ids is not None:
        dyads = dyads.filter(pk__in=list(dyad_ids))
        scope["dyad_id__in"] = list(dyad_ids)
    found = _cells(scope, _submitted_times(scope))
    followed = defaultdict(set)
    for dyad, wave, reason in (
        AlertFollowUp.objects.filter(**scope).order_by().values_list("dyad_id", "wave_id", "reason")
    ):
        followed[dyad].add((wave, reason))
    return [
        DyadFacts(pk, code, active, found.get(pk, {}), frozenset(followed.get(pk, ())))
        for pk, code, active in dyads.values_list("pk", "research_code", "is_active")
    ]


def _cells(scope: dict, times: dict[tuple[int, int], dt.datetime]) -> dict[int, dict[int, Cell]]:
    rows = DyadWaveResult.objects.filter(**scope).order_by()
    found: dict[int, dict[int, Cell]] = defaultdict(dict)
    for dyad, wave, *values in rows.values_list("dyad_id", "wave_id", *CELL_FIELDS):
        found[dyad][wave] = Cell(*values, submitted_at=times.get((dyad, wave)))
    return found


def _submitted_times(scope: dict) -> dict[tuple[int, int], dt.datetime]:
    rows = (
        Response.objects.submitted()
        .filter(**scope)
        .order_by()
        .values("dyad_id", "wave_id")
        .annotate(last=Max("submitted_at"))
        .values_list("dyad_id", "wave_id", "last")
    )
    return {(dyad, wave): last for dyad, wave, last in rows}


# --- locking and the fingerprint ------------------------------------------------------


def _lock(cohort_id: int, *, exclusive: bool) -> tuple[str, int, int]:
    """Create the cohort's summary row if needed and lock it; its stored fingerprint."""
    table = CohortSummary._meta.db_table
    mode = ""
    if connection.vendor == "postgresql":
        mode = " FOR UPDATE" if exclusive else " FOR SHARE"
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" (cohort_id, fingerprint, follow_ups, last_follow_up) '
            "VALUES (%s, '', 0, 0) ON CONFLICT (cohort_id) DO NOTHING",
            [cohort_id],
        )
        cursor.execute(
            f'SELECT fingerprint, follow_ups, last_follow_up FROM "{table}" '
            f"WHERE cohort_id = %s{mode}",
            [cohort_id],
        )
        return cursor.fetchone()


def _signature_sql(cohorts: int) -> str:
    dyad, follow_up = Dyad._meta.db_table, AlertFollowUp._meta.db_table
    wave, summary = Wave._meta.db_table, CohortSummary._meta.db_table
    cohort = Cohort._meta.db_table
    ids = ", ".join(["%s"] * cohorts)
    return f"""
        SELECT c.id, s.fingerprint, s.follow_ups, s.last_follow_up,
               d.n, d.active, d.ids, d.top, f.n, f.top
        FROM "{cohort}" c
        LEFT JOIN (SELECT cohort_id, count(*) AS n,
                          sum(CASE WHEN is_active THEN 1 ELSE 0 END) AS active,
                          sum(CASE WHEN is_active THEN id ELSE 0 END) AS ids, max(id) AS top
                   FROM "{dyad}" WHERE cohort_id IN ({ids}) GROUP BY cohort_id) d
               ON d.cohort_id = c.id
        LEFT JOIN (SELECT w.cohort_id, count(*) AS n, max(f.id) AS top FROM "{follow_up}" f
                   JOIN "{wave}" w ON w.id = f.wave_id WHERE w.cohort_id IN ({ids})
                   GROUP BY w.cohort_id) f
               ON f.cohort_id = c.id
        LEFT JOIN "{summary}" s ON s.cohort_id = c.id
        WHERE c.id IN ({ids})"""


def _signatures(
    cohorts: Sequence[Cohort], waves: dict[int, Sequence[WaveFacts]]
) -> dict[int, tuple[tuple, tuple, tuple[int, int]]]:
    """Per cohort id: the stored and the current ``(fingerprint, follow-ups, last
    follow-up)``, and the cohort's ``(dyads, active dyads)`` (one query)."""
    ids = [c.pk for c in cohorts]
    with connection.cursor() as cursor:
        cursor.execute(_signature_sql(len(ids)), ids * 3)
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    found = {}
    for cohort in cohorts:
        stored_print, stored_n, stored_top, *dyads, n, top = rows[cohort.pk]
        dyads = [int(x or 0) for x in dyads]
        shape = [(w.id, w.number, w.closes_at.timestamp()) for w in waves.get(cohort.pk, ())]
        source = repr((shape, cohort.program.constants.version_label, dyads))
        current = (hashlib.sha256(source.encode()).hexdigest()[:32], int(n or 0), int(top or 0))
        stored = (stored_print or "", stored_n or 0, stored_top or 0)
        found[cohort.pk] = (stored, current, (dyads[0], dyads[1]))
    return found


# --- writing ------------------------------------------------------------------------


def ensure_current(*, cohorts: Sequence[Cohort], waves: Iterable[Wave]) -> dict[int, tuple]:
    """Build each cohort's aggregates when missing or out of date (one query when none
    is); return each cohort's ``(dyads, active dyads)`` by id, which that query counts.

    ``waves`` are all of the cohorts' waves, as the page read them.
    """
    by_cohort: dict[int, list[Wave]] = defaultdict(list)
    for wave in waves:
        by_cohort[wave.cohort_id].append(wave)
    facts = {pk: wave_facts(found) for pk, found in by_cohort.items()}
    signatures = _signatures(cohorts, facts)
    for cohort in cohorts:
        stored, current, _dyads = signatures[cohort.pk]
        if stored != current:
            rebuild(cohort=cohort, waves=facts.get(cohort.pk, []), when_stale=True)
    return {pk: dyads for pk, (_stored, _current, dyads) in signatures.items()}


def rebuild(
    *, cohort: Cohort, waves: Sequence[WaveFacts] | None = None, when_stale: bool = False
) -> None:
    """Compute the cohort's counts and open alerts from its stored rows, in the database
    (``rebuild``; ``when_stale``: unless another request has just done so)."""
    with transaction.atomic():
        stored = _lock(cohort.pk, exclusive=True)
        waves = _cohort_waves(cohort) if waves is None else waves
        _stored, current, _dyads = _signatures([cohort], {cohort.pk: waves})[cohort.pk]
        if when_stale and stored == current:
            return
        CohortCount.objects.filter(cohort=cohort).delete()
        OpenAlert.objects.filter(cohort=cohort).delete()
        days = cohort.program.constants.alert_days_before_close
        rebuild_rows(cohort.pk, waves, days)
        CohortSummary.objects.filter(cohort=cohort).update(
            fingerprint=current[0],
            follow_ups=current[1],
            last_follow_up=current[2],
            built_at=timezone.now(),
        )


@contextmanager
def rescored(*, cohort: Cohort, dyad_ids: Sequence[int]) -> Iterator[None]:
    """Around a write of these dyads' stored results: keep the cohort's aggregates.

    Locks the cohort's summary for sharing (other dyads' writes go on at the same time;
    a rebuild waits), reads the dyads' results before and after the write and adds the
    difference. When the aggregates were never built, only the lock is taken: the
    first page builds them.
    """
    with transaction.atomic():
        built = _lock(cohort.pk, exclusive=False)[0] != ""
        if not built:
            yield
            return
        waves = _cohort_waves(cohort)
        before = dyad_facts(cohort=cohort, waves=waves, dyad_ids=dyad_ids)
        yield
        after = dyad_facts(cohort=cohort, waves=waves, dyad_ids=dyad_ids)
        _rewrite(cohort, waves, before, after)


def follow_up_recorded(*, follow_up: AlertFollowUp) -> None:
    """Take a new follow-up's alert off the cohort's open alerts and count it.

    When the aggregates had not counted every earlier follow-up (one was made or removed
    elsewhere), they are marked out of date instead, for the next page to rebuild.
    """
    cohort = follow_up.wave.cohort
    with transaction.atomic():
        stored = _lock(cohort.pk, exclusive=True)
        if not stored[0]:
            return
        others = AlertFollowUp.objects.filter(wave__cohort=cohort).exclude(pk=follow_up.pk)
        earlier = others.aggregate(n=Max("pk"))["n"] or 0, others.count()
        if (stored[2], stored[1]) != earlier:
            CohortSummary.objects.filter(cohort=cohort).update(fingerprint="")
            return
        waves = _cohort_waves(cohort)
        after = dyad_facts(cohort=cohort, waves=waves, dyad_ids=[follow_up.dyad_id])
        key = (follow_up.wave_id, follow_up.reason)
        before = [replace(facts, followed=facts.followed - {key}) for facts in after]
        _rewrite(cohort, waves, before, after)
        CohortSummary.objects.filter(cohort=cohort).update(
            follow_ups=earlier[1] + 1, last_follow_up=max(earlier[0], follow_up.pk)
        )


def _rewrite(
    cohort: Cohort, waves: Sequence[WaveFacts], before: list[DyadFacts], after: list[DyadFacts]
) -> None:
    """Add ``after`` minus ``before`` to the counts and rewrite these dyads' open alerts."""
    old = {facts.id: facts for facts in before}
    by_shard: dict[int, Counts] = defaultdict(dict)
    for facts in after:
        new = tallies.dyad_counts(facts, waves)
        was = tallies.dyad_counts(old[facts.id], waves) if facts.id in old else {}
        shard = by_shard[facts.id % SHARDS]
        by_shard[facts.id % SHARDS] = tallies.total([shard, tallies.difference(new, was)])
    _add_counts(cohort.pk, by_shard)
    OpenAlert.objects.filter(dyad_id__in=[facts.id for facts in after]).delete()
    _insert_alerts(cohort.pk, after, waves, cohort.program.constants.alert_days_before_close)


def _add_counts(cohort_id: int, by_shard: dict[int, Counts]) -> None:
    """Add each shard's counts to the stored ones, in key order (no deadlocks)."""
    rows = sorted(
        (wave, name, shard, n, total)
        for shard, counts in by_shard.items()
        for (wave, name), (n, total) in counts.items()
    )
    table = CohortCount._meta.db_table
    for start in range(0, len(rows), 500):
        part = rows[start : start + 500]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(part))
        params = [
            x
            for wave, name, shard, n, total in part
            for x in (cohort_id, wave, tallies.kind_of(name), name, shard, n, total)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{table}" AS c (cohort_id, wave_id, kind, name, shard, n, total) '
                f"VALUES {values} ON CONFLICT (cohort_id, wave_id, name, shard) DO UPDATE "
                "SET n = c.n + excluded.n, total = c.total + excluded.total",
                params,
            )


def _insert_alerts(
    cohort_id: int, dyads: Iterable[DyadFacts], waves: Sequence[WaveFacts], days: int
) -> None:
    OpenAlert.objects.bulk_create(
        [
            OpenAlert(
                cohort_id=cohort_id,
                dyad_id=row.dyad,
                wave_id=row.wave.id,
                reason=row.reason,
                timed=row.timed,
                raised_at=row.raised_at,
                raised_sort=row.raised_at or EPOCH,
                code=row.code,
                wave_number=row.wave.number,
                rank=row.rank,
            )
            for facts in dyads
            for row in tallies.dyad_alerts(facts, waves, days)
        ],
        batch_size=2000,
    )
