"""Background tasks (Django's task framework API, ``django-tasks``).

Which engine runs them is the ``TASKS`` setting: a queue in the database by default,
RQ on Redis with ``TASKS_BACKEND=redis``. Arguments are ids, never objects.
"""

from __future__ import annotations

from django_tasks import task

from . import services, worker
from .models import DeliveryBatch

# A send task hands over to a fresh one after this long, so a large send never holds
# a worker (or an RQ job timeout) for hours.
SEND_TASK_SECONDS = 600


@task()
def send_due() -> int:
    """Send every due message of the delivery log; returns how many were sent."""
    return worker.deliveries_send(time_limit=SEND_TASK_SECONDS).sent


@task()
def plan_batch(batch_id: int) -> int:
    """Expand a send batch into delivery rows (and enqueue their sending)."""
    batch = DeliveryBatch.objects.filter(pk=batch_id).first()
    return services.batch_plan(batch=batch) if batch is not None else 0


@task()
def run_schedule() -> str:
    """One scheduler run (``manage.py delivery_schedule`` does the same)."""
    return str(services.schedule_run())
