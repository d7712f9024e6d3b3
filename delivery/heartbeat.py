"""The worker's heartbeat, and what ``/healthz`` reads of the queue.

``manage.py delivery_worker`` runs a :class:`Heartbeat` beside the task engine's own
worker loop: a thread that updates the process's ``WorkerHeartbeat`` row every
``HEARTBEAT_SECONDS`` and removes it when the worker stops cleanly. A killed worker's
row stays and ages, so the newest row tells whether anything still takes work from
the queue. The thread runs in the worker process of either engine (the database
queue's ``db_worker`` or RQ's ``rqworker``), so the reading is the same for both.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from .models import Delivery, WorkerHeartbeat

logger = logging.getLogger(__name__)

# A worker writes its row this often; /healthz calls the site degraded when the newest
# row is older than HEARTBEAT_STALE_SECONDS while work is waiting (six missed beats).
HEARTBEAT_SECONDS = 10
HEARTBEAT_STALE_SECONDS = 60
# Rows of workers silent this long are deleted (killed processes leave theirs behind).
FORGET_AFTER = dt.timedelta(days=1)


# --- writing -------------------------------------------------------------------------------


def worker_name() -> str:
    """This process's name in the heartbeat table: host, process id and a random tag
    (two containers may share a host name and a process id)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[-200:]


def heartbeat_record(*, name: str, engine: str, now: dt.datetime) -> None:
    """Say that the worker ``name`` is alive at ``now``; forget workers silent a day."""
    if not WorkerHeartbeat.objects.filter(name=name).update(seen_at=now, engine=engine):
        WorkerHeartbeat.objects.create(name=name, engine=engine, started_at=now, seen_at=now)
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


def heartbeat_remove(*, name: str) -> None:
    """A worker that stops cleanly leaves no row behind."""
    WorkerHeartbeat.objects.filter(name=name).delete()


class Heartbeat:
    """``with Heartbeat(engine=...):`` writes this process's row at once, then every
    ``period`` seconds from a thread with its own database connection, and removes
    the row on the way out. A failed write (the database away for a moment) is logged
    and retried at the next beat; it never stops the worker."""

    def __init__(self, *, engine: str, period: float = HEARTBEAT_SECONDS):
        self.engine, self.period, self.name = engine, period, worker_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def beat(self) -> None:
        try:
            heartbeat_record(name=self.name, engine=self.engine, now=timezone.now())
        except Exception:  # the next beat tries again; the worker goes on
            logger.warning("the worker heartbeat could not be written", exc_info=True)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.period):
                self.beat()
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=self.period + 5)
        try:
            heartbeat_remove(name=self.name)
        except Exception:  # stopping goes on; the row ages and is forgotten
            logger.warning("the worker heartbeat could not be removed", exc_info=True)


# --- reading (/healthz) --------------------------------------------------------------------


@dataclass(frozen=True)
class QueueHealth:
    """The queue as ``/healthz`` reports it. ``tasks_queued`` is None when the task
    queue could not be read (Redis away)."""

    engine: str
    deliveries_due: int
    tasks_queued: int | None
    heartbeat_age: float | None
    workers_alive: int

    @property
    def backlog(self) -> int:
        return self.deliveries_due + (self.tasks_queued or 0)

    @property
    def status(self) -> str:
        return health_status(
            engine=self.engine,
            backlog=self.backlog,
            queue_readable=self.tasks_queued is not None,
            heartbeat_age=self.heartbeat_age,
        )


def health_status(
    *, engine: str, backlog: int, queue_readable: bool, heartbeat_age: float | None
) -> str:
    """``ok`` or ``degraded``: degraded when the task queue cannot be read, or when work
    waits and no worker has reported within ``HEARTBEAT_STALE_SECONDS`` (none at all
    counts as never). Tasks that run inside the caller need no worker."""
    if not queue_readable:
        return "degraded"
    if engine == "ImmediateBackend" or backlog == 0:
        return "ok"
    stale = heartbeat_age is None or heartbeat_age > HEARTBEAT_STALE_SECONDS
    return "degraded" if stale else "ok"


def _engine() -> str:
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

    return type(task_backends[DEFAULT_TASK_BACKEND_ALIAS]).__name__


def tasks_queued(engine: str) -> int | None:
    """Tasks waiting for a worker now: ready rows of the database queue, jobs in RQ's
    list; 0 when tasks run inside the caller; None when the queue cannot be read."""
    if engine == "DatabaseBackend":
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.ready().count()
    if engine == "RQBackend":
        import django_rq

        try:
            return django_rq.get_queue("default").count
        except Exception:  # Redis refused or timed out: reported, not raised
            logger.warning("the task queue could not be read", exc_info=True)
            return None
    return 0


def queue_health(*, now: dt.datetime) -> QueueHealth:
    """Deliveries due now (including those a dead worker held past the lease), tasks
    waiting, and how long ago the newest worker heartbeat was written (four queries)."""
    engine = _engine()
    due = Delivery.objects.claimable(now=now, lease_seconds=settings.DELIVERY_LEASE_SECONDS)
    alive_since = now - dt.timedelta(seconds=HEARTBEAT_STALE_SECONDS)
    seen = WorkerHeartbeat.objects.aggregate(newest=Max("seen_at"))["newest"]
    return QueueHealth(
        engine=engine,
        deliveries_due=due.count(),
        tasks_queued=tasks_queued(engine),
        heartbeat_age=None if seen is None else max((now - seen).total_seconds(), 0.0),
        workers_alive=WorkerHeartbeat.objects.filter(seen_at__gte=alive_since).count(),
    )
