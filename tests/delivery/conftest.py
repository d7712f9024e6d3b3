"""A real SMTP server (aiosmtpd) on a free local port, Django's SMTP backend pointed at
it, the database task queue, and the real worker that runs its tasks.

``sink.refuse_after(n)`` makes the server answer ``421`` (closing) to every message
after the n-th; ``sink.stop()`` takes it down and ``sink.start()`` brings it back on
the same port.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time
from collections import Counter
from types import SimpleNamespace
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from assessments.models import Wave
from delivery.models import Delivery
from tests import factories

LINK = re.compile(r"http://\S+?/invite/(\d+)-[A-Za-z0-9_-]+/")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """An SMTP server that keeps every accepted message (thread-safe)."""

    def __init__(self, port: int, delay: float = 0.0):
        self.port = port
        self.delay = delay
        self.messages: list[SimpleNamespace] = []
        self.accept_limit: int | None = None
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            if self.accept_limit is not None and len(self.messages) >= self.accept_limit:
                return "421 4.3.2 Service shutting down, closing transmission channel"
            text = envelope.content.decode("utf8", errors="replace")
            self.messages.append(SimpleNamespace(to=tuple(envelope.rcpt_tos), text=text))
        return "250 OK"

    def start(self) -> None:
        self.accept_limit = None
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="sink.localhost"
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def refuse_after(self, count: int) -> None:
        self.accept_limit = count

    def per_recipient(self) -> Counter:
        return Counter(address for m in self.messages for address in m.to)

    def links(self) -> list[str]:
        """The survey link of every participant message received."""
        found = (LINK.search(m.text) for m in self.messages)
        return [match.group(0) for match in found if match]


@pytest.fixture
def sink(settings):
    server = Sink(free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def db_tasks(settings):
    """The database task queue, as in production's embedded default."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


def run_worker(worker_id: str = "test-worker") -> None:
    """The database backend's own worker: run every ready task, then return.

    Between tasks the worker closes database connections that are not in autocommit
    mode, as a long-running process should; inside a test's transaction that would
    end the test's own connection, so only that step is left out here.
    """
    from django_tasks_db.management.commands import db_worker

    with mock.patch.object(db_worker, "close_old_connections", lambda: None):
        _worker(worker_id)


def _worker(worker_id: str) -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    ).run()


def time_passes() -> None:
    """Every retry waiting on its back-off comes due."""
    Delivery.objects.filter(status=Delivery.Status.QUEUED).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


@pytest.fixture
def cohort_wave(db):
    """A program with a coordinator, a cohort of six dyads and an open wave."""
    program = factories.ProgramFactory(name="Bridges", slug="bridges")
    cohort = factories.CohortFactory(program=program)
    coordinator = factories.CoordinatorFactory(program=program).user
    dyads = [factories.DyadFactory(cohort=cohort) for _ in range(6)]
    wave = factories.WaveFactory(cohort=cohort, number=1)
    return SimpleNamespace(program=program, cohort=cohort, dyads=dyads, wave=wave,
                           coordinator=coordinator)  # fmt: skip


def partners_of(wave: Wave) -> list[str]:
    return sorted(
        email
        for d in wave.cohort.dyads.filter(is_active=True)
        for email in (d.mentor.email, d.protege.email)
    )
