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


def cohort_waves(cohort: Cohort) -> list[WaveFacts]:
    """The cohort's waves in number order, with when they open and close (one statement)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT id, number, closes_at, opens_at FROM "{Wave._meta.db_table}" '
            "WHERE cohort_id = %s ORDER BY number",
            [cohort.pk],
        )
        return [
            WaveFacts(pk, number, _aware(closes), _aware(opens))
            for pk, number, closes, opens in cursor.fetchall()
        ]


def dyad_facts(
    *, cohort: Cohort, waves: Sequence[WaveFacts], dyad_ids: Sequence[int] | None = None
) -> list[DyadFacts]:
    """The cohort's dyads (or ``dyad_ids``) with their stored results, later submission
    times and follow-ups at ``waves`` (two queries)."""
    return refreshed(_known(cohort.pk, dyad_ids), waves, times=True)


def _known(cohort_id: int, dyad_ids: Sequence[int] | None) -> list[DyadFacts]:
    """The cohort's dyads (or ``dyad_ids``) with their follow-ups, before their results
    are read: one plain statement (a submit makes it), a row per dyad and follow-up."""
    dyad, follow_up = Dyad._meta.db_table, AlertFollowUp._meta.db_table
    where, params = "d.cohort_id = %s", [cohort_id]
    if dyad_ids is not None:
        where += f" AND d.id IN ({', '.join(['%s'] * len(dyad_ids)) or 'NULL'})"
        params += list(dyad_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, d.research_code, d.is_active, f.wave_id, f.reason "
            f'FROM "{dyad}" d LEFT JOIN "{follow_up}" f ON f.dyad_id = d.id '
            f"WHERE {where} ORDER BY d.id",
            params,
        )
        rows = cursor.fetchall()
    dyads: dict[int, tuple[str, bool]] = {}
    followed: dict[int, set] = defaultdict(set)
    for pk, code, active, wave, reason in rows:
        dyads[pk] = (code, bool(active))
        if wave is not None:
            followed[pk].add((wave, reason))
    return [
        DyadFacts(pk, code, active, {}, frozenset(followed.get(pk, ())))
        for pk, (code, active) in dyads.items()
    ]


def refreshed(facts: Sequence[DyadFacts], waves: Sequence[WaveFacts], *, times: bool) -> list:
    """``facts`` with their stored results read again (and their later submission times,
    when ``times``; counts do not need them): one statement."""
    found = _cells_of([f.id for f in facts], [w.id for w in waves], times=times)
    return [replace(f, cells=found.get(f.id, {})) for f in facts]


def _cells_of(dyad_ids: list[int], wave_ids: list[int], *, times: bool) -> dict:
    """Results of a few dyads, by dyad and wave, in one plain statement: a submit reads
    them twice, and the ORM's query building would cost more than the query."""
    if not dyad_ids or not wave_ids:
        return {}
    result, response = DyadWaveResult._meta.db_table, Response._meta.db_table
    last = (
        f'(SELECT max(s.submitted_at) FROM "{response}" s WHERE s.dyad_id = r.dyad_id '
        "AND s.wave_id = r.wave_id AND s.status = 'submitted')"
        if times
        else "NULL"
    )
    dyads, waves = ", ".join(["%s"] * len(dyad_ids)), ", ".join(["%s"] * len(wave_ids))
    sql = (
        f"SELECT r.dyad_id, r.wave_id, {', '.join(f'r.{c}' for c in CELL_FIELDS)}, {last} "
        f'FROM "{result}" r WHERE r.dyad_id IN ({dyads}) AND r.wave_id IN ({waves})'
    )
    found: dict[int, dict[int, Cell]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*dyad_ids, *wave_ids])
        for dyad, wave, state, m, p, transition, *rest in cursor.fetchall():
            *flags, x, y, moment = rest
            found[dyad][wave] = Cell(
                state, bool(m), bool(p), transition, *map(bool, flags), x, y, _aware(moment)
            )
    return found


def _aware(moment: dt.datetime | str | None) -> dt.datetime | None:
    """A timestamp as the ORM would give it: SQLite returns UTC text without an offset."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


# --- locking and the fingerprint ------------------------------------------------------


def _lock(cohort_id: int, *, exclusive: bool) -> tuple[str, int, int]:
    """Lock the cohort's summary row (created when missing); its stored fingerprint."""
    table = CohortSummary._meta.db_table
    mode = ""
    if connection.vendor == "postgresql":
        mode = " FOR UPDATE" if exclusive else " FOR SHARE"
    select = (
        f'SELECT fingerprint, follow_ups, last_follow_up FROM "{table}" WHERE cohort_id = %s{mode}'
    )
    with connection.cursor() as cursor:
        cursor.execute(select, [cohort_id])
        found = cursor.fetchone()
        if found is None:  # two writers may get here at once: one insert wins
            cursor.execute(
                f'INSERT INTO "{table}" (cohort_id, fingerprint, follow_ups, last_follow_up) '
                "VALUES (%s, '', 0, 0) ON CONFLICT (cohort_id) DO NOTHING",
                [cohort_id],
            )
            cursor.execute(select, [cohort_id])
            found = cursor.fetchone()
        return found


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
    if not ids:  # a program without cohorts; "IN ()" is no SQL PostgreSQL accepts
        return {}
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
        waves = cohort_waves(cohort) if waves is None else waves
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
def rescored(
    *, cohort: Cohort, dyad_ids: Sequence[int], waves: Sequence[WaveFacts] | None = None
) -> Iterator[None]:
    """Around a write of these dyads' stored results: keep the cohort's aggregates.

    Locks the cohort's summary for sharing (other dyads' writes go on at the same time;
    a rebuild waits), reads the dyads' results before and after the write (and, after,
    their submission times, which date their alerts) and adds the difference. When the
    aggregates were never built, only the lock is taken: the first page builds them.
    ``waves`` are the cohort's (``cohort_waves``), when the caller has read them.
    """
    with transaction.atomic():
        built = _lock(cohort.pk, exclusive=False)[0] != ""
        if not built:
            yield
            return
        waves = cohort_waves(cohort) if waves is None else waves
        before = refreshed(_known(cohort.pk, dyad_ids), waves, times=False)
        yield
        _rewrite(cohort, waves, before, refreshed(before, waves, times=True))


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
        waves = cohort_waves(cohort)
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
    ids = [facts.id for facts in after]
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(
                f'DELETE FROM "{OpenAlert._meta.db_table}" '
                f"WHERE dyad_id IN ({', '.join(['%s'] * len(ids))})",
                ids,
            )
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


ALERT_COLUMNS = (
    "cohort_id", "dyad_id", "wave_id", "reason", "timed", "raised_at", "raised_sort", "code",
    "wave_number", "rank",
)  # fmt: skip


def _insert_alerts(
    cohort_id: int, dyads: Iterable[DyadFacts], waves: Sequence[WaveFacts], days: int
) -> None:
    """Insert the dyads' open alerts: one plain statement (per 500), as a submit needs."""
    moment = connection.ops.adapt_datetimefield_value
    rows = [
        (cohort_id, row.dyad, row.wave.id, row.reason, row.timed, moment(row.raised_at),
         moment(row.raised_at or EPOCH), row.code, row.wave.number, row.rank)
        for facts in dyads
        for row in tallies.dyad_alerts(facts, waves, days)
    ]  # fmt: skip
    columns = ", ".join(f'"{c}"' for c in ALERT_COLUMNS)
    marks = "(" + ", ".join(["%s"] * len(ALERT_COLUMNS)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            part = rows[start : start + 500]
            cursor.execute(
                f'INSERT INTO "{OpenAlert._meta.db_table}" ({columns}) '
                f"VALUES {', '.join([marks] * len(part))}",
                [value for row in part for value in row],
            )
