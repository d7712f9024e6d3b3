"""Handing work to the task framework: after the rows it needs are committed
(``jobs.services.after_commit``: at once on the database queue, which stores the task in
the same transaction, and when the transaction commits on Redis)."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings

from jobs.services import after_commit


def _backend():
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

    return task_backends[DEFAULT_TASK_BACKEND_ALIAS]


def send_soon(messages: int) -> None:
    """Enqueue enough send tasks for ``messages`` rows: one per batch of
    ``DELIVERY_BATCH_SIZE``, at most ``DELIVERY_PARALLEL_TASKS`` (each drains the log
    until nothing is due, so more workers share a large send)."""
    from .tasks import send_due

    count = min(
        math.ceil(messages / settings.DELIVERY_BATCH_SIZE), settings.DELIVERY_PARALLEL_TASKS
    )
    for _ in range(count):
        after_commit(send_due.enqueue)


def send_at(moment: dt.datetime) -> bool:
    """Enqueue one send task to run at ``moment`` (a retry) where the backend can defer
    tasks; returns False otherwise (the scheduler's sweep then picks the rows up)."""
    from .tasks import send_due

    if not _backend().supports_defer:
        return False
    after_commit(lambda: send_due.using(run_after=moment).enqueue())
    return True


def plan_soon(batch_id: int) -> None:
    """Enqueue the task that expands a send batch into delivery rows."""
    from .tasks import plan_batch

    after_commit(lambda: plan_batch.enqueue(batch_id))
