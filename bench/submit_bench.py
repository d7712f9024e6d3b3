"""Final submits under gunicorn against DESIGN §8: 20 simultaneous submitters, and the
survey of 100 participants with their final submit.

Standalone: ``python bench/submit_bench.py [--dyads 2000] [--waves 6]`` builds demo/2026
the way ``bench/run.py`` does (when missing) and prints the table. ``bench_submits()``
returns the rows for ``bench/run.py``; it expects ``seed_demo`` data in a configured
Django.

Drafts of the open wave, one per dyad (so that no two submitters share a dyad's lock),
are completed first; everything the run writes is put back afterwards: the answers
exactly as they were, the responses back to drafts, their dyads' results and the
cohort's aggregates recomputed.

- 20 submitters, first on 1 gunicorn worker, then on 2 (4 threads each): 20 threads,
  each with the sessions of its five people, submit one draft after the other, as
  ``load_bench`` paces its people: arriving during the first 2 s, pausing 0.5-1.5 s
  after each submit. Latency of the submit POST, errors, and the server's CPU per
  submit: the CPU time of the worker processes (``/proc``) over the phase divided by the
  submits. Baseline from the same server: ``/healthz`` with 20 requests in flight, and
  its CPU per request. A capacity phase follows, not judged: the same 20 threads
  submitting back to back, so 20 submits are always in flight (latency is then mostly
  queueing on the two cores that also run PostgreSQL and this load generator).
- 100 participants on 2 workers: each goes through three pages of the survey (a page,
  then one autosaved answer) and submits, pausing 2.5-7.5 s after each request: 100
  people with the survey open at once send about 20 requests a second, as 20 people
  pausing 1 s do in ``load_bench`` (still far faster than anyone reads and answers a
  page of items). p95 of every request, the submits included, and errors.
"""

from __future__ import annotations

import argparse
import http.client
import random
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: ``python bench/submit_bench.py``
    sys.path.insert(0, str(ROOT))

from bench.load_clients import Client, health_user, run_phase  # noqa: E402
from bench.load_data import (  # noqa: E402
    Participant,
    _open_wave,
    _pages,
    _session_for,
    sessions_removed,
)
from bench.load_server import gunicorn_process, worker_cpu_seconds  # noqa: E402
from bench.load_stats import Samples  # noqa: E402
from bench.rows import Row  # noqa: E402

SUBMITTERS = 20
ROUNDS = 5
THINK = 1.0  # seconds a submitter pauses before the next submit, on average
PARTICIPANTS = 100
PAGES_EACH = 3
THREADS = 4
CROWD_THINK = 5.0  # seconds a participant pauses after a request, on average
P95_BUDGET_MS = 150
CPU_BUDGET_MS = 20
HEALTH_SECONDS = 8.0


def _drafts(count: int) -> list:
    """Draft responses of the open wave in ``count`` different dyads, of people with an
    account."""
    from assessments.models import Response

    wave = _open_wave()
    drafts = (
        Response.objects.filter(wave=wave, status=Response.Status.DRAFT)
        .exclude(respondent__user=None)
        .select_related("dyad", "respondent__user", "wave")
        .order_by("dyad__research_code", "role")
    )
    chosen, dyads = [], set()
    for response in drafts:
        if response.dyad_id not in dyads:
            dyads.add(response.dyad_id)
            chosen.append(response)
        if len(chosen) == count:
            return chosen
    raise LookupError(f"the open wave has drafts in {len(chosen)} dyads, {count} needed")


def _people(drafts: list) -> list[Participant]:
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils.crypto import get_random_string

    pages = _pages(drafts[0].wave)
    return [
        Participant(
            session_key=_session_for(r.respondent.user),
            csrf_secret=get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS),
            code=r.dyad.research_code,
            wave=r.wave.number,
            pages=pages,
        )
        for r in drafts
    ]


@contextmanager
def prepared(drafts: list) -> Iterator[None]:
    """Complete the drafts' answers; afterwards put every answer back as it was, the
    responses back to drafts and their results and aggregates as before."""
    from assessments.models import Answer, Item, Response

    ids = [r.pk for r in drafts]
    updated = dict(Response.objects.filter(pk__in=ids).values_list("pk", "updated_at"))
    kept = list(Answer.objects.filter(response_id__in=ids).values_list("pk", flat=True))
    original = {a.pk: (a.value, a.answered_at) for a in Answer.objects.filter(pk__in=kept)}
    items = list(Item.objects.filter(subscale__battery__instrument=drafts[0].wave.instrument)
                 .select_related("subscale__battery"))  # fmt: skip
    answered = set(Answer.objects.filter(response_id__in=ids).values_list("response_id", "item_id"))
    Answer.objects.bulk_create(
        [
            Answer(response_id=r, item=i, value=(i.subscale.battery.scale_max + 1) // 2 + 1)
            for r in ids
            for i in items
            if (r, i.pk) not in answered
        ]
    )
    try:
        yield
    finally:
        Answer.objects.filter(response_id__in=ids).exclude(pk__in=kept).delete()
        for pk, (value, moment) in original.items():
            Answer.objects.filter(pk=pk).update(value=value, answered_at=moment)
        undo_submits(drafts)
        for pk, moment in updated.items():
            Response.objects.filter(pk=pk).update(updated_at=moment)


def undo_submits(drafts: list) -> None:
    """The drafts back to drafts, their dyads' results and the aggregates recomputed."""
    from assessments.models import Response
    from assessments.services import results_recompute

    Response.objects.filter(pk__in=[r.pk for r in drafts]).update(
        status=Response.Status.DRAFT, submitted_at=None
    )
    cohort = drafts[0].dyad.cohort
    results_recompute(cohort=cohort, dyad_ids=sorted({r.dyad_id for r in drafts}))


def _submit(client: Client, samples: Samples) -> None:
    person = client.person
    started = time.perf_counter()
    try:
        status, body = client.request("POST", f"/me/survey/{person.code}/{person.wave}/submit/", "")
        ok, detail = status == 302, f"submit: {status} {body[:200]!r}"
    except (OSError, http.client.HTTPException) as error:
        ok, detail = False, f"{type(error).__name__}: {error}"
    samples.add(started, ok, detail)


def submitters(
    port: int, people: list[Participant], server, think: float
) -> tuple[Samples, float, float]:
    """``SUBMITTERS`` threads, each submitting its share of ``people`` one after the
    other, pausing ``think`` seconds on average after each (0: none, so that
    ``SUBMITTERS`` submits are always in flight), all starting together; the samples,
    the server's CPU seconds per submit and submits per second."""
    shares = [people[i::SUBMITTERS] for i in range(SUBMITTERS)]
    samples, lock = Samples(), threading.Lock()
    start = threading.Barrier(SUBMITTERS + 1)

    def work(share: list[Participant], seed: int) -> None:
        rng, mine = random.Random(seed), Samples()
        start.wait()
        if think:  # people arrive during their first pause, as in load_bench
            time.sleep(rng.uniform(0, 2 * think))
        for person in share:
            client = Client(port, person)
            _submit(client, mine)
            client.connection.close()
            if think:
                time.sleep(rng.uniform(0.5, 1.5) * think)
        with lock:
            samples.merge(mine)

    threads = [
        threading.Thread(target=work, args=(share, seed), daemon=True)
        for seed, share in enumerate(shares)
    ]
    for thread in threads:
        thread.start()
    cpu = worker_cpu_seconds(server)
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    used = worker_cpu_seconds(server) - cpu
    return samples, used / max(samples.count, 1), samples.count / elapsed


def _health(port: int, server) -> tuple[Samples, float]:
    cpu = worker_cpu_seconds(server)
    phase = run_phase(port, [None] * SUBMITTERS, health_user, HEALTH_SECONDS, 0)
    health = phase.samples["healthz"]
    return health, (worker_cpu_seconds(server) - cpu) / max(health.count, 1)


def participant(client: Client, until: float, think: float, seed: int) -> dict[str, Samples]:
    """Three pages with an autosaved answer each, then the final submit."""
    rng = random.Random(seed)
    got, saved, submitted = Samples(), Samples(), Samples()
    time.sleep(rng.uniform(0, 2 * think))
    pages = client.person.pages
    for page in list(pages)[:PAGES_EACH]:
        # After a pause longer than the server's keep-alive a browser opens a new
        # connection; so does this one.
        client.connection.close()
        started = time.perf_counter()
        try:
            ok, detail = client.survey_page(page)
        except (OSError, http.client.HTTPException) as error:
            ok, detail = False, str(error)
        got.add(started, ok, detail)
        time.sleep(rng.uniform(0.5, 1.5) * think)
        code, values = rng.choice(pages[page])
        client.connection.close()
        started = time.perf_counter()
        try:
            ok, detail = client.autosave(code, rng.choice(values))
        except (OSError, http.client.HTTPException, ValueError) as error:
            ok, detail = False, str(error)
        saved.add(started, ok, detail)
        time.sleep(rng.uniform(0.5, 1.5) * think)
        client.connection.close()
    _submit(client, submitted)
    return {"GET": got, "POST": saved, "submit": submitted}


def _ms(samples: Samples) -> str:
    return f"p95 {samples.percentile_ms(0.95):.0f} ms (p50 {samples.percentile_ms(0.5):.0f})"


def bench_submits(workers: tuple[int, ...] = (1, 2)) -> list[Row]:
    """Rows for the submit phases (``seed_demo`` data, demo/2026 with an open wave)."""
    from django.db import connection

    drafts = _drafts(SUBMITTERS * ROUNDS)
    crowd = _drafts(PARTICIPANTS + SUBMITTERS * ROUNDS)[SUBMITTERS * ROUNDS :]
    rows: list[Row] = []
    people = _people(drafts)
    with sessions_removed(people), prepared(drafts + crowd):
        for count in workers:
            with gunicorn_process(count, THREADS) as (port, server):
                connection.close()
                health, health_cpu = _health(port, server)
                paced = submitters(port, people, server, THINK)
                undo_submits(drafts)
                connection.close()
                flat_out = submitters(port, people, server, 0)
            undo_submits(drafts)
            rows += _submit_rows(count, paced, flat_out, health, health_cpu)
        rows += _crowd_rows(_people(crowd))
    return rows


def _submit_rows(workers, paced, flat_out, health, health_cpu) -> list[Row]:
    samples, cpu, _rate = paced
    label = (
        f"final submit, {SUBMITTERS} submitters pausing ~{THINK:g} s, gunicorn {workers}x{THREADS}"
    )
    p95 = samples.percentile_ms(0.95)
    base = f"/healthz {_ms(health)}, 20 in flight"
    busy, busy_cpu, rate = flat_out
    return [
        Row(label, _ms(samples), f"p95 < {P95_BUDGET_MS} ms", base,
            f"{p95 / health.percentile_ms(0.95):.1f}x",
            "ok" if p95 < P95_BUDGET_MS and not samples.errors else "OVER"),
        Row("  errors", f"{samples.errors + busy.errors} of {samples.count + busy.count}",
            "0 errors", "", "", "ok" if not samples.errors + busy.errors else "ERRORS"),
        Row("  server CPU per submit (worker processes)", f"{1000 * cpu:.1f} ms",
            f"< {CPU_BUDGET_MS} ms", f"/healthz {1000 * health_cpu:.1f} ms", "",
            "ok" if 1000 * cpu < CPU_BUDGET_MS else "OVER"),
        Row(f"  capacity: {SUBMITTERS} submits always in flight, no pause",
            f"{_ms(busy)}; {rate:.1f} submits/s", "-", "", "",
            f"CPU {1000 * busy_cpu:.1f} ms/submit"),
    ]  # fmt: skip


def _crowd_rows(people: list[Participant]) -> list[Row]:
    from django.db import connection

    with sessions_removed(people), gunicorn_process(2, THREADS) as (port, _server):
        connection.close()
        phase = run_phase(port, people, participant, 0, CROWD_THINK)
    merged = Samples()
    for samples in phase.samples.values():
        merged.merge(samples)
    errors = sum(s.errors for s in phase.samples.values())
    label = f"survey, {len(people)} participants with their final submit, gunicorn 2x{THREADS}"
    p95 = merged.percentile_ms(0.95)
    return [
        Row(label, _ms(merged), f"p95 < {P95_BUDGET_MS} ms, 0 errors", "", "",
            "ok" if p95 < P95_BUDGET_MS and not errors else "OVER"),
        *[Row(f"  {kind}", f"{_ms(s)}, {s.errors} errors in {s.count}", "", "", "", "")
          for kind, s in phase.samples.items()],
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dyads", type=int, default=2000)
    parser.add_argument("--waves", type=int, default=6)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    import run

    run.setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", dyads=options.dyads, waves=options.waves, seed=11, verbosity=0)
    run._analyze()
    run.print_table(bench_submits())


if __name__ == "__main__":
    main()
