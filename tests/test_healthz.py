"""``/healthz``: the database, the queue's backlog and the worker's heartbeat.

503 only when the database does not answer; a worker silent for longer than
``HEARTBEAT_STALE_SECONDS`` while work waits is ``degraded`` with 200 (pages still
work, so a load balancer keeps the server; monitoring alerts on the status).
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_tasks import task

from assessments.invitations import invitations_send
from delivery.heartbeat import (
    HEARTBEAT_STALE_SECONDS,
    Heartbeat,
    health_status,
    heartbeat_record,
    tasks_queued,
)
from delivery.models import WorkerHeartbeat
from tests import factories
from tests.live import ROOT, Client, free_port, server_env

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@task()
def heartbeats_seen() -> list[str]:
    """What a task sees of the heartbeat table while a worker runs it."""
    return list(WorkerHeartbeat.objects.values_list("engine", flat=True))


@pytest.fixture
def keep_signals():
    """The database worker installs its own Ctrl-C handlers; give pytest its own back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.fixture
def invitations_waiting(db, settings):
    """Three dyads' invitations queued on the database queue, no worker running."""
    settings.TASKS = DATABASE_QUEUE
    wave = factories.WaveFactory()
    for _ in range(3):
        factories.DyadFactory(cohort=wave.cohort)
    assert invitations_send(wave=wave) == 6
    return wave


def beat(seconds_ago: float) -> None:
    heartbeat_record(
        name="worker-1",
        engine="DatabaseBackend",
        now=timezone.now() - dt.timedelta(seconds=seconds_ago),
    )


@pytest.mark.django_db
def test_healthz_is_ok_with_an_empty_queue_and_no_worker(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200
    assert reply.json() == {
        "status": "ok",
        "database": "ok",
        "queue": {"engine": "ImmediateBackend", "deliveries_due": 0, "tasks_queued": 0},
        "worker": {
            "last_heartbeat_seconds": None,
            "alive": 0,
            "stale_after_seconds": HEARTBEAT_STALE_SECONDS,
        },
    }


@pytest.mark.django_db
def test_healthz_answers_plain_http_where_every_page_redirects_to_https(client, settings):
    """A load balancer asks the app server directly, without TLS or a proxy's header."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    home = client.get("/")
    assert home.status_code == 301 and home.url.startswith("https://")


def test_the_backlog_counts_due_deliveries_and_waiting_tasks(client, invitations_waiting):
    queue = client.get("/healthz").json()["queue"]
    assert queue["engine"] == "DatabaseBackend"
    assert queue["deliveries_due"] == 6 and queue["tasks_queued"] >= 1


def test_work_waiting_and_no_worker_ever_seen_is_degraded_but_still_200(
    client, invitations_waiting
):
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.json()["status"] == "degraded"


def test_a_recent_heartbeat_keeps_a_backlog_ok(client, invitations_waiting):
    beat(seconds_ago=5)
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["worker"]["alive"] == 1
    assert 5 <= health["worker"]["last_heartbeat_seconds"] < 10


def test_a_heartbeat_older_than_the_threshold_while_work_waits_is_degraded(
    client, invitations_waiting
):
    beat(seconds_ago=HEARTBEAT_STALE_SECONDS + 30)
    reply = client.get("/healthz")
    health = reply.json()
    assert reply.status_code == 200 and health["status"] == "degraded"
    assert health["worker"]["alive"] == 0
    assert health["worker"]["last_heartbeat_seconds"] >= HEARTBEAT_STALE_SECONDS + 30


@pytest.mark.django_db
def test_a_stale_heartbeat_with_nothing_waiting_is_ok(client):
    beat(seconds_ago=3600)
    assert client.get("/healthz").json()["status"] == "ok"


@pytest.mark.parametrize(
    ("engine", "backlog", "readable", "age", "status"),
    [
        ("DatabaseBackend", 0, True, None, "ok"),
        ("DatabaseBackend", 4, True, 3.0, "ok"),
        ("DatabaseBackend", 4, True, HEARTBEAT_STALE_SECONDS + 1, "degraded"),
        ("DatabaseBackend", 4, True, None, "degraded"),
        ("RQBackend", 0, False, 3.0, "degraded"),
        ("ImmediateBackend", 4, True, None, "ok"),
    ],
)
def test_the_status_rule(engine, backlog, readable, age, status):
    assert (
        health_status(engine=engine, backlog=backlog, queue_readable=readable, heartbeat_age=age)
        == status
    )


def test_an_unreachable_redis_queue_reads_as_unknown(settings):
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:9/0"}}
    assert tasks_queued("RQBackend") is None


def test_the_worker_command_beats_while_it_runs_and_leaves_no_row_when_it_stops(
    invitations_waiting, keep_signals
):
    from django_tasks_db.management.commands import db_worker

    seen = heartbeats_seen.enqueue()
    # As tests/delivery/conftest.py's run_worker: keep the test's own connection open.
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        call_command("delivery_worker", "--burst", verbosity=0)
    seen.refresh()
    assert seen.return_value == ["DatabaseBackend"]
    assert not WorkerHeartbeat.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_writes_again_every_period():
    with Heartbeat(engine="DatabaseBackend", period=0.05) as heartbeat:
        deadline = time.monotonic() + 10
        seen = []
        while time.monotonic() < deadline:
            if (at := _seen_at(heartbeat.name)) is not None and at not in seen:
                seen.append(at)
            if len(seen) >= 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the heartbeat was not written again")
    assert not WorkerHeartbeat.objects.filter(name=heartbeat.name).exists()


def _seen_at(name: str):
    """The row's time, or None while the heartbeat thread holds the table: the test
    database on SQLite is one in-memory database shared by both threads, where a read
    during the other thread's write fails at once ("table is locked") instead of
    waiting. A file database, as the worker uses, waits for the write instead."""
    try:
        return WorkerHeartbeat.objects.get(name=name).seen_at
    except OperationalError:
        return None


def test_healthz_answers_503_when_the_database_is_down():
    """A real server whose PostgreSQL does not answer (nothing listens on the port)."""
    env = server_env(DATABASE_URL="postgres://continuum@127.0.0.1:9/continuum")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "mentoring_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--worker-class", "gthread", "--threads", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        reply = _first_answer(port)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert reply.status == 503
    assert '"status": "error"' in reply.body and '"database": "OperationalError"' in reply.body


def _first_answer(port: int, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return Client(port).get("/healthz")
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not answer")
