"""Survey load under gunicorn against DESIGN §8: 20 concurrent participants, p95 < 150 ms.

Standalone: ``python bench/load_bench.py [--dyads 2000] [--waves 6] [--users 20]
[--seconds 30] [--think 1] [--capacity-seconds 15] [--workers 2] [--threads 4]`` builds
demo/2026 the way ``bench/run.py`` does (when missing) and prints the table.
``bench_survey_load()`` returns the rows (name, measured, budget, baseline, ratio,
verdict) for ``bench/run.py`` to print; it expects ``seed_demo`` data in an already
configured Django.

gunicorn serves ``mentoring_site.wsgi`` with gthread workers on a free local port, with
this process's database and settings (DEBUG off). Each simulated participant is one
thread with its own keep-alive connection and a signed-in session of a real demo
participant whose open wave has a draft response: it loads a page of its survey, then
autosaves one answer the way ``static/js/survey.js`` does (form-encoded body,
``X-CSRFToken`` header from the page), then the next page, and so on. It never submits.

Budget rows: every person pauses 0.5-1.5 s after each request (``--think 1``), which is
still several times faster than people read and answer. Capacity rows: nobody pauses, so
20 requests are in flight all the time and latency is mostly queueing; they show the
headroom and are not judged. ``/healthz`` (one database round trip) with 20 requests in
flight against the same server is the baseline. The answers and sessions the run writes
are put back afterwards. Everything shares the machine's cores (server, PostgreSQL and
this load generator), so the load average before the run is printed too.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
USERS = 20
SECONDS = 30.0
# Each person pauses 0.5-1.5 s after every request: a page and an answer every ~2 s,
# several times faster than anyone reads and answers a survey item.
THINK = 1.0
CAPACITY_SECONDS = 15.0
HEALTH_SECONDS = 10.0
WARM_UP_SECONDS = 3.0
# Two cores run gunicorn, PostgreSQL and this load generator together. One worker per
# core keeps both cores busy despite the GIL; a few threads per worker overlap one
# request's database waits with another's Python work, and leave room for a long export
# streaming in a thread (DESIGN §10). Beyond that, threads only queue behind the GIL.
# Measured here: paced p95 alike for 2x2, 2x4, 2x8 and 4x2; at capacity 4 workers did worst.
WORKERS = 2
THREADS = 4
P95_BUDGET_MS = 150
# Longer than the longest pause, so the server never closes a connection a person reuses.
KEEP_ALIVE = 5
STARTUP_TIMEOUT = 30.0
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Row:
    name: str
    measured: str
    budget: str
    baseline: str
    ratio: str
    verdict: str


@dataclass
class Participant:
    """One simulated person: where their survey is and what they may answer."""

    session_key: str
    csrf_secret: str
    code: str
    wave: int
    # page number -> [(item code, allowed values)]
    pages: dict[int, list[tuple[str, list[str]]]]


@dataclass
class Samples:
    """Latencies (seconds) of successful requests, and failures, of one request kind."""

    times: list[float] = field(default_factory=list)
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)

    def add(self, started: float, ok: bool, detail: str = "") -> None:
        if ok:
            self.times.append(time.perf_counter() - started)
            return
        self.errors += 1
        if len(self.error_examples) < 3:
            self.error_examples.append(detail)

    def merge(self, other: Samples) -> None:
        self.times += other.times
        self.errors += other.errors
        self.error_examples += other.error_examples[: 3 - len(self.error_examples)]

    def percentile_ms(self, share: float) -> float:
        """Nearest-rank percentile: the value at or below which ``share`` of requests fall."""
        if not self.times:
            return math.nan
        ordered = sorted(self.times)
        return 1000 * ordered[max(math.ceil(share * len(ordered)) - 1, 0)]

    @property
    def count(self) -> int:
        return len(self.times) + self.errors


# --- data: participants, sessions, and putting their answers back -------------------------


def _open_wave():
    from assessments.models import Wave

    return (
        Wave.objects.open_at()
        .filter(cohort__program__slug="demo", cohort__slug="2026")
        .select_related("instrument")
        .get()
    )


def _drafts(wave, count: int) -> list:
    """Draft responses of ``count`` distinct participants who have a sign-in account."""
    from assessments.models import Response

    drafts = (
        Response.objects.filter(wave=wave, status=Response.Status.DRAFT)
        .exclude(respondent__user=None)
        .select_related("dyad", "respondent__user")
        .order_by("dyad__research_code", "role")
    )
    chosen, seen = [], set()
    for response in drafts:
        if response.respondent_id not in seen:
            seen.add(response.respondent_id)
            chosen.append(response)
        if len(chosen) == count:
            return chosen
    raise LookupError(f"the open wave has only {len(chosen)} draft responses, {count} needed")


def _pages(wave) -> dict[int, list[tuple[str, list[str]]]]:
    """Page number -> items and their valid answers, in the order the survey shows them."""
    from assessments.survey import selectors

    pages = {}
    for number, battery in enumerate(selectors.survey_pages(wave), start=1):
        values = [str(v) for v in range(battery.scale_min, battery.scale_max + 1)]
        pages[number] = [(item.code, values) for item in selectors.page_items(battery)]
    return pages


def _session_for(user) -> str:
    """A stored session signed in as ``user``, as ``django.contrib.auth.login`` makes one.

    Signing in through the form would spend ~100 ms of Argon2 per person outside what is
    measured, and these demo participants have no password.
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _participants(count: int) -> tuple[list[Participant], list]:
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils.crypto import get_random_string

    wave = _open_wave()
    pages = _pages(wave)
    drafts = _drafts(wave, count)
    people = [
        Participant(
            session_key=_session_for(response.respondent.user),
            csrf_secret=get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS),
            code=response.dyad.research_code,
            wave=wave.number,
            pages=pages,
        )
        for response in drafts
    ]
    return people, drafts


@contextmanager
def _answers_restored(responses: list) -> Iterator[None]:
    """Put the responses' answers and ``updated_at`` back as they were, whatever happens."""
    from django.db import transaction

    from assessments.models import Answer, Response

    ids = [r.pk for r in responses]
    answers = list(Answer.objects.filter(response_id__in=ids))
    answered = {a.pk: a.answered_at for a in answers}
    updated = dict(Response.objects.filter(pk__in=ids).values_list("pk", "updated_at"))
    try:
        yield
    finally:
        with transaction.atomic():
            Answer.objects.filter(response_id__in=ids).delete()
            Answer.objects.bulk_create(answers)  # stamps answered_at (auto_now) ...
            for answer in answers:
                answer.answered_at = answered[answer.pk]
            Answer.objects.bulk_update(answers, ["answered_at"], batch_size=500)  # ... undone
            for pk, moment in updated.items():
                Response.objects.filter(pk=pk).update(updated_at=moment)


@contextmanager
def _sessions_removed(people: list[Participant]) -> Iterator[None]:
    from django.contrib.sessions.models import Session

    try:
        yield
    finally:
        Session.objects.filter(session_key__in=[p.session_key for p in people]).delete()


# --- the server --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_environment() -> dict[str, str]:
    """This process's settings (database, key, DEBUG off) plus a host for local requests.

    Pages link static files through the plain storage, so no ``collectstatic`` manifest
    is needed; WhiteNoise is not exercised (the survey's requests never fetch static).
    """
    environment = dict(os.environ)
    environment.update(
        ALLOWED_HOSTS="127.0.0.1",
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "mentoring_site.settings"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return environment


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def gunicorn(workers: int, threads: int) -> Iterator[int]:
    """A gunicorn serving the site on a free port, stopped on the way out; yields the port."""
    port = _free_port()
    command = [
        sys.executable, "-m", "gunicorn", "mentoring_site.wsgi",
        "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
        "--workers", str(workers), "--threads", str(threads),
        "--log-level", "warning", "--timeout", "60", "--keep-alive", str(KEEP_ALIVE),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env=_server_environment(), stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not _healthy(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"gunicorn did not come up:\n{log.read().decode()[-2000:]}")
                time.sleep(0.2)
            yield port
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# --- the load ----------------------------------------------------------------------------


class Client:
    """One person's browser: a keep-alive connection carrying their cookies."""

    def __init__(self, port: int, person: Participant | None) -> None:
        self.port, self.person = port, person
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.token = person.csrf_secret if person else ""
        # Cookies go in by hand: with DEBUG off they are marked Secure, and a cookie jar
        # would not send them over this plain-HTTP loopback connection.
        self.cookie = (
            f"sessionid={person.session_key}; csrftoken={person.csrf_secret}" if person else ""
        )

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.token,
            }
        try:
            self.connection.request(method, path, body=body, headers=headers)
            reply = self.connection.getresponse()
            return reply.status, reply.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # reconnects on the next request
            raise

    def survey_page(self, page: int) -> tuple[bool, str]:
        person = self.person
        status, body = self.request("GET", f"/me/survey/{person.code}/{person.wave}/page/{page}/")
        token = CSRF_TOKEN.search(body.decode()) if status == 200 else None
        if token:
            self.token = token.group(1)  # what survey.js reads from the form
        return status == 200 and token is not None, f"GET page {page}: {status}"

    def autosave(self, code: str, value: str) -> tuple[bool, str]:
        person = self.person
        path = f"/me/survey/{person.code}/{person.wave}/autosave/"
        status, body = self.request("POST", path, urlencode({code: value}))
        ok = status == 200 and json.loads(body).get("saved") == 1
        return ok, f"POST {code}={value}: {status} {body[:120]!r}"


def _timed(samples: Samples, call: Callable[[], tuple[bool, str]]) -> None:
    started = time.perf_counter()
    try:
        ok, detail = call()
    except (OSError, http.client.HTTPException, ValueError) as error:
        ok, detail = False, f"{type(error).__name__}: {error}"
    samples.add(started, ok, detail)


def _pause(rng: random.Random, think: float) -> None:
    if think:
        time.sleep(rng.uniform(0.5, 1.5) * think)


def _arrive(rng: random.Random, think: float) -> None:
    """Paced people start at random moments of their first cycle, not all at one instant.

    Twenty first requests in the same millisecond would be ~7 % of a 30 s run's samples,
    so that one burst alone would set the p95; the capacity phase covers bursts.
    """
    if think:
        time.sleep(rng.uniform(0, 2 * think))


def _survey_user(client: Client, until: float, think: float, seed: int) -> dict[str, Samples]:
    """Page through the survey: load a page, autosave one of its answers, next page."""
    rng = random.Random(seed)
    pages = client.person.pages
    got, posted = Samples(), Samples()
    page = 1 + seed % len(pages)
    _arrive(rng, think)
    while time.perf_counter() < until:
        _timed(got, partial(client.survey_page, page))
        _pause(rng, think)
        code, values = rng.choice(pages[page])
        _timed(posted, partial(client.autosave, code, rng.choice(values)))
        _pause(rng, think)
        page = page % len(pages) + 1
    return {"GET": got, "POST": posted}


def _health_user(client: Client, until: float, think: float, seed: int) -> dict[str, Samples]:
    rng, health = random.Random(seed), Samples()

    def check() -> tuple[bool, str]:
        status, _body = client.request("GET", "/healthz")
        return status == 200, f"GET /healthz: {status}"

    _arrive(rng, think)
    while time.perf_counter() < until:
        _timed(health, check)
        _pause(rng, think)
    return {"healthz": health}


@dataclass
class Phase:
    """What one load phase measured: samples by request kind, wall time, client CPU."""

    samples: dict[str, Samples]
    seconds: float
    client_cpu: float

    def rate(self, kind: str) -> float:
        return self.samples[kind].count / self.seconds


def _run(port: int, people: list[Participant | None], user, seconds: float, think: float) -> Phase:
    """Every person in their own thread, for ``seconds``, all starting together."""
    clients = [Client(port, person) for person in people]
    results: list[dict[str, Samples]] = []
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)

    def work(client: Client, seed: int) -> None:
        start.wait()
        outcome = user(client, time.perf_counter() + seconds, think, seed)
        with lock:
            results.append(outcome)

    threads = [
        threading.Thread(target=work, args=(client, seed), daemon=True)
        for seed, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    client_cpu = (time.process_time() - cpu) / elapsed
    for client in clients:
        client.connection.close()
    merged: dict[str, Samples] = {}
    for outcome in results:
        for kind, samples in outcome.items():
            merged.setdefault(kind, Samples()).merge(samples)
    for kind, samples in merged.items():
        for example in samples.error_examples:
            print(f"{kind} error: {example}", file=sys.stderr)
    return Phase(merged, elapsed, client_cpu)


# --- the rows ----------------------------------------------------------------------------

KINDS = (("GET", "survey page GET"), ("POST", "autosave POST"))


def _latency(samples: Samples) -> str:
    return f"p95 {samples.percentile_ms(0.95):.0f} ms (p50 {samples.percentile_ms(0.5):.0f})"


def _budget_rows(paced: Phase, health: Phase, label: str) -> list[Row]:
    """The §8 budget: latency and errors of each request kind at a person's pace."""
    base = health.samples["healthz"]
    rows = []
    for kind, name in KINDS:
        samples = paced.samples[kind]
        p95 = samples.percentile_ms(0.95)
        rows += [
            Row(f"{name}, {label}", _latency(samples), f"p95 < {P95_BUDGET_MS} ms",
                f"/healthz {_latency(base)}", f"{p95 / base.percentile_ms(0.95):.1f}x",
                "ok" if p95 < P95_BUDGET_MS and samples.errors == 0 else "OVER"),
            Row(f"{name}, errors; throughput",
                f"{samples.errors} of {samples.count:,}; {paced.rate(kind):.0f} req/s", "0 errors",
                "", "", "ok" if samples.errors == 0 else "ERRORS"),
        ]  # fmt: skip
    return rows


def _capacity_rows(flat_out: Phase, health: Phase, users: int) -> list[Row]:
    """No pause at all: ``users`` requests always in flight, so latency is mostly queueing."""
    base = health.samples["healthz"]
    rows = [
        Row(f"{name}, capacity: {users} in flight, no pause", _latency(flat_out.samples[kind]),
            "-", f"/healthz {_latency(base)}",
            f"{flat_out.samples[kind].percentile_ms(0.95) / base.percentile_ms(0.95):.1f}x", "")
        for kind, name in KINDS
    ]  # fmt: skip
    errors = sum(flat_out.samples[kind].errors for kind, _name in KINDS)
    rows.append(
        Row(
            "survey capacity: GET + POST per second",
            f"{flat_out.rate('GET'):.0f} + {flat_out.rate('POST'):.0f} req/s, {errors} errors",
            "-",
            f"/healthz {health.rate('healthz'):,.0f} req/s, {base.errors} errors",
            "",
            "",
        )
    )
    return rows


def bench_survey_load(
    users: int = USERS,
    seconds: float = SECONDS,
    workers: int = WORKERS,
    threads: int = THREADS,
    think: float = THINK,
    capacity_seconds: float = CAPACITY_SECONDS,
) -> list[Row]:
    """Rows for the survey under ``users`` concurrent participants (``seed_demo`` data).

    The budget rows come from people pausing ``think`` seconds (on average) after every
    request; the capacity rows (skipped when ``capacity_seconds`` is 0) from none pausing.
    """
    from django.db import connection

    load = os.getloadavg()[0]
    vendor = connection.vendor
    people, drafts = _participants(users)
    with _sessions_removed(people), _answers_restored(drafts), gunicorn(workers, threads) as port:
        connection.close()  # while measuring, only the server's connections are open
        _run(port, people, _survey_user, WARM_UP_SECONDS, 0)
        health = _run(port, [None] * users, _health_user, HEALTH_SECONDS, 0)
        paced = _run(port, people, _survey_user, seconds, think)
        flat_out = (
            _run(port, people, _survey_user, capacity_seconds, 0) if capacity_seconds else None
        )
    server = f"gunicorn {workers}x{threads} gthread, {vendor}"
    rows = _budget_rows(paced, health, f"{users} users pausing ~{think:g} s, {server}")
    if flat_out:
        rows += _capacity_rows(flat_out, health, users)
    cpu = max(p.client_cpu for p in (paced, flat_out, health) if p)
    rows.append(Row("load generator CPU, busiest phase", f"{cpu:.0%} of a core", "-", "", "", ""))
    rows.append(Row("machine load average before the run", f"{load:.2f}", "-", "", "", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dyads", type=int, default=2000)
    parser.add_argument("--waves", type=int, default=6)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--think", type=float, default=THINK, help="mean pause per request")
    parser.add_argument("--capacity-seconds", type=float, default=CAPACITY_SECONDS)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    import run

    run.setup_django()
    from django.core.management import call_command
    from django.db import connection

    print(f"database: {connection.vendor}")
    # Only demo/2026, as run.py builds it; not run.py's other cohorts.
    call_command("migrate", verbosity=0)
    call_command("seed_demo", dyads=options.dyads, waves=options.waves, seed=11, verbosity=0)
    run._analyze()
    rows = bench_survey_load(
        options.users,
        options.seconds,
        options.workers,
        options.threads,
        options.think,
        options.capacity_seconds,
    )
    run.print_table(rows)


if __name__ == "__main__":
    main()
