"""Several schedulers, senders and workers at once never send a message twice.

The full race runs on PostgreSQL (``DATABASE_URL``), where workers claim rows with
``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite only the claim itself is checked.
"""

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from assessments.invitations import invitations_send
from delivery import services, worker
from delivery.models import Delivery, DeliverySchedule
from tests import factories
from tests.delivery.conftest import partners_of, run_worker


def test_two_claims_never_share_a_row(cohort_wave, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    invitations_send(wave=cohort_wave.wave)
    now = timezone.now()
    first = worker.deliveries_claim(now=now, size=5)
    second = worker.deliveries_claim(now=now, size=5)
    rows = dict(Delivery.objects.values_list("pk", "claim"))
    assert list(rows.values()).count(first) == 5 and list(rows.values()).count(second) == 5
    assert worker.deliveries_claim(now=now, size=5) is not None  # the last two
    assert worker.deliveries_claim(now=now, size=5) is None


def _in_thread(target, errors: list) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    return threading.Thread(target=run)


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_and_two_workers_at_once_send_each_message_once(sink, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the concurrent race needs PostgreSQL (set DATABASE_URL)")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.DELIVERY_BATCH_SIZE = 5
    sink.delay = 0.002
    program = factories.ProgramFactory(name="Bridges")
    cohort = factories.CohortFactory(program=program)
    for _ in range(40):
        factories.DyadFactory(cohort=cohort)
    wave = factories.WaveFactory(cohort=cohort)
    DeliverySchedule.objects.create(program=program, send_from_hour=0, send_until_hour=24)

    start, planned = threading.Barrier(4), threading.Event()
    errors: list[BaseException] = []

    def scheduler() -> None:
        start.wait()
        services.schedule_run()

    def button() -> None:
        start.wait()
        invitations_send(wave=wave)

    def work(name: str):
        def loop() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                run_worker(worker_id=name)
                pending = Delivery.objects.filter(status__in=["queued", "sending"]).exists()
                if planned.is_set() and not pending:
                    return
                time.sleep(0.02)

        return loop

    planners = [_in_thread(f, errors) for f in (scheduler, scheduler, button, button)]
    workers = [_in_thread(work(name), errors) for name in ("worker-a", "worker-b")]
    for thread in planners + workers:
        thread.start()
    for thread in planners:
        thread.join()
    planned.set()
    for thread in workers:
        thread.join()

    assert errors == []
    partners = partners_of(wave)
    received = sink.per_recipient()
    assert {email: received[email] for email in partners} == {email: 1 for email in partners}
    assert Delivery.objects.filter(kind="invitation", status="sent").count() == 80
    busy = {
        worker_id
        for result in DBTaskResult.objects.filter(task_path="delivery.tasks.send_due")
        if result.return_value
        for worker_id in result.worker_ids
    }
    assert busy == {"worker-a", "worker-b"}
