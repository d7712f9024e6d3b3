"""Email delivery against DESIGN §8: 50,000 invitations to a local SMTP sink.

Standalone: ``python bench/delivery_bench.py [--invitations 50000]`` builds its own
cohort (one open wave, a dyad per two invitations) the way ``bench/run.py`` configures
the database (PostgreSQL when DATABASE_URL is set), runs every phase and prints the
table. ``bench_delivery()`` returns the rows for ``bench/run.py``.

Phases, each from an empty delivery log:
1. The coordinator's send button through Django's test ``Client``: the request only
   records the send and enqueues a task (budget < 300 ms).
2. 1 worker, then 2 workers (``manage.py delivery_worker`` processes on the database
   queue) plan and send everything to an aiosmtpd sink that keeps nothing but a count
   per invitation: messages/s from the click to the last message, and duplicates.
3. 2 workers, one SIGKILLed mid-run and a fresh one started: every invitation must
   arrive; the only duplicates allowed are messages in flight at the kill. The lease is
   shortened (``DELIVERY_LEASE_SECONDS``) so the held rows come back within the run.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: ``python bench/delivery_bench.py``
    sys.path.insert(0, str(ROOT))

from bench.rows import Row  # noqa: E402

INVITATIONS = 50_000
BUTTON_BUDGET_MS = 300
TOTAL_BUDGET_S = 600
LEASE_SECONDS = 20
LINK = re.compile(rb"/invite/(\d+)-")
SLUG = "bench-delivery"


class Sink:
    """An SMTP server that discards messages, counting them per invitation id."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    async def handle_DATA(self, server, session, envelope) -> str:
        found = LINK.search(envelope.content)
        with self.lock:
            self.counts[int(found.group(1)) if found else 0] += 1
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="sink.localhost"
        )
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()

    def received(self) -> int:
        with self.lock:
            return sum(self.counts.values())

    def duplicates(self) -> int:
        with self.lock:
            return sum(n - 1 for n in self.counts.values() if n > 1)

    def distinct(self) -> int:
        with self.lock:
            return len(self.counts)


# --- data ----------------------------------------------------------------------------------


def build(invitations: int):
    """A program with a coordinator and one cohort of ``invitations / 2`` dyads with an
    open wave (reused when it exists). Returns the wave."""
    import datetime as dt

    from django.utils import timezone

    from assessments.models import Instrument, Wave
    from relationships.codes import fresh_codes
    from relationships.models import (
        Cohort,
        CoordinatorMembership,
        Dyad,
        Participant,
        Program,
        User,
    )

    program, _ = Program.objects.get_or_create(slug=SLUG, defaults={"name": "Delivery bench"})
    cohort, _ = Cohort.objects.get_or_create(program=program, slug="all", defaults={"name": "All"})
    coordinator, _ = User.objects.get_or_create(email="bench-coordinator@example.org")
    CoordinatorMembership.objects.get_or_create(program=program, user=coordinator)
    instrument, _ = Instrument.objects.get_or_create(code="bench", version=1,
                                                     defaults={"title": "Bench"})  # fmt: skip
    now = timezone.now()
    Wave.objects.update_or_create(
        cohort=cohort, number=1,
        defaults={"opens_at": now - dt.timedelta(days=1), "closes_at": now + dt.timedelta(days=30),
                  "instrument": instrument},
    )  # fmt: skip
    have = Dyad.objects.filter(cohort=cohort).count()
    wanted = invitations // 2
    if have < wanted:
        started = time.perf_counter()
        first = have * 2
        emails = [f"p{i}@bench.example.org" for i in range(first, 2 * wanted)]
        users = User.objects.bulk_create(
            [User(email=e, password="!", first_name="P", last_name=str(i))
             for i, e in enumerate(emails, first)], batch_size=5000,
        )  # fmt: skip
        codes = fresh_codes(Participant, "P", len(users))
        people = Participant.objects.bulk_create(
            [Participant(user=u, name=u.last_name, research_code=c)
             for u, c in zip(users, codes, strict=True)], batch_size=5000,
        )  # fmt: skip
        dyad_codes = fresh_codes(Dyad, "D", len(people) // 2)
        Dyad.objects.bulk_create(
            [Dyad(cohort=cohort, mentor=people[2 * i], protege=people[2 * i + 1], research_code=c)
             for i, c in enumerate(dyad_codes)], batch_size=5000,
        )  # fmt: skip
        print(f"delivery data set: {wanted:,} dyads ready in {time.perf_counter() - started:.0f} s")
    return Wave.objects.select_related("cohort__program").get(cohort=cohort, number=1), coordinator


def reset(wave) -> None:
    """An empty delivery log and task queue, as before the first send of the wave."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from assessments.models import Invitation
    from delivery.models import Delivery, DeliveryBatch

    Delivery.objects.all().delete()
    DeliveryBatch.objects.all().delete()
    DBTaskResult.objects.all().delete()
    Invitation.objects.filter(wave=wave).update(sent_at=None, reminded_at=None, reminder_count=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE delivery_delivery; ANALYZE assessments_invitation")


# --- phases --------------------------------------------------------------------------------


def click(wave, coordinator) -> float:
    """POST the wave's invite button as its coordinator; returns milliseconds."""
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    client = Client()
    client.force_login(coordinator)
    cohort = wave.cohort
    url = reverse("coordinate:wave_invite", args=[cohort.program.slug, cohort.slug, wave.number])
    manage = reverse("coordinate:manage", args=[cohort.program.slug, cohort.slug])
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    storages = {**settings.STORAGES, "staticfiles": plain}  # no collectstatic needed
    with override_settings(ALLOWED_HOSTS=["testserver"], STORAGES=storages):
        client.get(manage)  # the page the button is on (and a warm process)
        started = time.perf_counter()
        reply = client.post(url)
        took = 1000 * (time.perf_counter() - started)
    if reply.status_code != 302:
        raise RuntimeError(f"the send button answered {reply.status_code}")
    return took


def worker(sink: Sink) -> subprocess.Popen:
    env = {
        **os.environ,
        "TASKS_BACKEND": "database",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    command = [sys.executable, str(ROOT / "manage.py"), "delivery_worker", "-v0"]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def wait_for(sink: Sink, expected: int, limit: float, until=None) -> float:
    """Seconds until the sink holds ``expected`` distinct invitations (or ``until()``)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if sink.distinct() >= expected or (until is not None and until()):
            break
        time.sleep(0.2)
    return time.perf_counter() - started


def stop(workers: list[subprocess.Popen]) -> None:
    for process in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def run_send(wave, coordinator, sink: Sink, count: int, workers: int) -> tuple[float, float]:
    """Click, then ``workers`` workers deliver; returns (click ms, seconds to deliver)."""
    reset(wave)
    sink.reset()
    started = time.perf_counter()
    button = click(wave, coordinator)
    processes = [worker(sink) for _ in range(workers)]
    try:
        wait_for(sink, count, limit=3 * TOTAL_BUDGET_S)
        took = time.perf_counter() - started
        time.sleep(1)  # let any late duplicate arrive
    finally:
        stop(processes)
    return button, took


def run_kill(wave, coordinator, sink: Sink, count: int) -> tuple[int, int, float]:
    """2 workers, one SIGKILLed at a third of the way and replaced; returns (distinct
    invitations delivered, duplicates, seconds)."""
    reset(wave)
    sink.reset()
    started = time.perf_counter()
    click(wave, coordinator)
    processes = [worker(sink), worker(sink)]
    try:
        wait_for(sink, count // 3, limit=3 * TOTAL_BUDGET_S)
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait()
        processes.append(worker(sink))
        wait_for(sink, count, limit=3 * TOTAL_BUDGET_S + LEASE_SECONDS)
        took = time.perf_counter() - started
        time.sleep(1)
    finally:
        stop(processes)
    return sink.distinct(), sink.duplicates(), took


def bench_delivery(invitations: int = INVITATIONS) -> list[Row]:
    """Every phase; expects a configured Django (``bench/run.py``'s ``setup_django``)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    wave, coordinator = build(invitations)
    sink = Sink()
    sink.start()
    try:
        click_1, one = run_send(wave, coordinator, sink, invitations, workers=1)
        dup_1 = sink.duplicates()
        click_2, two = run_send(wave, coordinator, sink, invitations, workers=2)
        dup_2 = sink.duplicates()
        delivered, dup_kill, kill_took = run_kill(wave, coordinator, sink, invitations)
    finally:
        sink.stop()
    button = max(click_1, click_2)
    n = f"{invitations:,}"
    return [
        Row("delivery: send button (enqueue only)", f"{button:.0f} ms", f"< {BUTTON_BUDGET_MS} ms",
            "", "", "ok" if button < BUTTON_BUDGET_MS else "OVER"),
        Row(f"delivery: {n} invitations, 1 worker", f"{invitations / one:,.0f} msg/s",
            "", f"{one:.0f} s, {dup_1} duplicates", "", "ok" if dup_1 == 0 else "DUPLICATES"),
        Row(f"delivery: {n} invitations, 2 workers", f"{two:.0f} s ({invitations / two:,.0f} "
            "msg/s)", f"< {TOTAL_BUDGET_S} s, 0 duplicates", f"1 worker {one:.0f} s",
            f"{one / two:.2f}x", "ok" if two < TOTAL_BUDGET_S and dup_2 == 0 else "OVER"),
        Row("delivery: duplicates at the sink, 2 workers", str(dup_2), "0", "", "",
            "ok" if dup_2 == 0 else "DUPLICATES"),
        Row("delivery: a worker SIGKILLed mid-run, restarted",
            f"{delivered:,} delivered, {dup_kill} duplicates", f"all {n}, only in-flight dups",
            f"{kill_took:.0f} s", "", "ok" if delivered == invitations and dup_kill <= 1
            else "LOST"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=INVITATIONS)
    options = parser.parse_args()
    from bench.run import print_table, setup_django

    setup_django()
    from django.db import connection

    print(f"database: {connection.vendor}")
    print_table(bench_delivery(options.invitations))


if __name__ == "__main__":
    main()
