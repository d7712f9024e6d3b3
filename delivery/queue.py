"""Handing work to the task framework: after the rows it needs are committed.

The database backend stores a task in the same transaction as the delivery rows, and
the immediate backend runs it on the same connection, so both can enqueue at once. A
task sent to Redis could reach a worker before the rows commit: it is enqueued when
the surrounding transaction commits instead.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction

DATABASE_SHARED = ("DatabaseBackend", "ImmediateBackend")


def _backend():
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

    return task_backends[DEFAULT_TASK_BACKEND_ALIAS]


def _after_commit(enqueue: Callable[[], object]) -> None:
    shares_database = type(_backend()).__name__ in DATABASE_SHARED
    if connection.in_atomic_block and not shares_database:
        transaction.on_commit(enqueue, robust=True)
    else:
        enqueue()


def send_soon(messages: int) -> None:
    """Enqueue enough send tasks for ``messages`` rows: one per batch of
    ``DELIVERY_BATCH_SIZE``, at most ``DELIVERY_PARALLEL_TASKS`` (each drains the log
    until nothing is due, so more workers share a large send)."""
    from .tasks import send_due

    count = min(
        math.ceil(messages / settings.DELIVERY_BATCH_SIZE), settings.DELIVERY_PARALLEL_TASKS
    )
    for _ in range(count):
        _after_commit(send_due.enqueue)


def send_at(moment: dt.datetime) -> bool:
    """Enqueue one send task to run at ``moment`` (a retry) where the backend can defer
    tasks; returns False otherwise (the scheduler's sweep then picks the rows up)."""
    from .tasks import send_due

    if not _backend().supports_defer:
        return False
    _after_commit(lambda: send_due.using(run_after=moment).enqueue())
    return True


def plan_soon(batch_id: int) -> None:
    """Enqueue the task that expands a send batch into delivery rows."""
    from .tasks import plan_batch

    _after_commit(lambda: plan_batch.enqueue(batch_id))
