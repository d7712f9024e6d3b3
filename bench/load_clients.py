"""The simulated people of the survey load test: one thread and connection each.

Part of ``bench/load_bench.py``. Each person is one thread with its own keep-alive
connection and signed-in session: it loads a page of its survey, then autosaves one answer
the way ``static/js/survey.js`` does, then the next page, and so on.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from urllib.parse import urlencode

from bench.load_data import Participant
from bench.load_stats import Phase, Samples

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


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


def survey_user(client: Client, until: float, think: float, seed: int) -> dict[str, Samples]:
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


def health_user(client: Client, until: float, think: float, seed: int) -> dict[str, Samples]:
    rng, health = random.Random(seed), Samples()

    def check() -> tuple[bool, str]:
        status, _body = client.request("GET", "/healthz")
        return status == 200, f"GET /healthz: {status}"

    _arrive(rng, think)
    while time.perf_counter() < until:
        _timed(health, check)
        _pause(rng, think)
    return {"healthz": health}


def run_phase(
    port: int, people: list[Participant | None], user, seconds: float, think: float
) -> Phase:
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
