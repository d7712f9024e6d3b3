"""The commands that run delivery: the scheduler, the worker (database queue and RQ on
Redis), and the send commands' report."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assessments.invitations import invitations_send
from tests.delivery.conftest import Sink, free_port, partners_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def keep_signals():
    """The database worker installs its own Ctrl-C handlers; give pytest its own back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.mark.django_db
def test_the_scheduler_runs_once_and_says_what_it_queued(capsys):
    call_command("delivery_schedule")
    assert "0 scheduled, 0 alerts, 0 digests queued" in capsys.readouterr().out


def test_the_worker_command_sends_what_the_database_queue_holds(
    cohort_wave, sink, db_tasks, keep_signals
):
    from django_tasks_db.management.commands import db_worker

    invitations_send(wave=cohort_wave.wave)
    with mock.patch.object(db_worker, "close_old_connections", lambda: None):  # see run_worker
        call_command("delivery_worker", "--burst", verbosity=0)
    assert sorted(sink.per_recipient()) == partners_of(cohort_wave.wave)


def test_the_send_command_reports_queued_and_sent(cohort_wave, sink, db_tasks, capsys):
    call_command("send_invitations", "--wave", str(cohort_wave.wave.pk))
    assert "12 invitations queued, 0 sent so far" in capsys.readouterr().out


def test_there_is_no_worker_to_start_when_tasks_run_in_the_caller(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with pytest.raises(CommandError, match="no worker"):
        call_command("delivery_worker", "--burst")


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_with_redis_the_rq_worker_sends_the_invitations(tmp_path):
    """TASKS_BACKEND=redis end to end, in separate processes as in production."""
    sink = Sink(free_port())
    sink.start()
    env = {
        **{name: value for name, value in os.environ.items() if name != "DATABASE_URL"},
        "DEBUG": "1",
        "TASKS_BACKEND": "redis",
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
    }

    def manage(*args: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    try:
        manage("migrate", "--noinput", "-v0")
        manage("seed_demo", "--dyads", "2", "--waves", "2", "-v0")
        wave = manage("shell", "-c", "from assessments.models import Wave; print("
                      "Wave.objects.get(cohort__program__slug='demo', number=2).pk)")  # fmt: skip
        assert "queued" in manage("send_invitations", "--wave", wave.split()[-1])
        manage("delivery_worker", "--burst")
    finally:
        sink.stop()
    assert sink.messages and max(sink.per_recipient().values()) == 1
