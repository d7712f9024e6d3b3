"""The server of the survey load test: gunicorn on a free local port.

Part of ``bench/load_bench.py``. gunicorn serves ``mentoring_site.wsgi`` with gthread
workers and this process's database and settings (DEBUG off).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Longer than the longest pause, so the server never closes a connection a person reuses.
KEEP_ALIVE = 5
STARTUP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_environment() -> dict[str, str]:
    """This process's settings (database, key, DEBUG off) plus a host for local requests.

    Pages link static files through the plain storage, so no ``collectstatic`` manifest
    is needed; WhiteNoise is not exercised (the survey's requests never fetch static).
    """
    environment = dict(os.environ)
    environment.update(
        ALLOWED_HOSTS="127.0.0.1",
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "mentoring_site.settings"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return environment


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def gunicorn(workers: int, threads: int) -> Iterator[int]:
    """A gunicorn serving the site on a free port, stopped on the way out; yields the port."""
    with gunicorn_process(workers, threads) as (port, _server):
        yield port


def worker_cpu_seconds(server: subprocess.Popen) -> float:
    """CPU time (user + system) the server's worker processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.pid:  # parent pid: a worker of this master
            total += int(fields[11]) + int(fields[12])
    return total / ticks


@contextmanager
def gunicorn_process(workers: int, threads: int) -> Iterator[tuple[int, subprocess.Popen]]:
    """``gunicorn``, yielding the port and the master process (whose children are the
    workers)."""
    port = _free_port()
    command = [
        sys.executable, "-m", "gunicorn", "mentoring_site.wsgi",
        "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
        "--workers", str(workers), "--threads", str(threads),
        "--log-level", "warning", "--timeout", "60", "--keep-alive", str(KEEP_ALIVE),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env=_server_environment(), stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not _healthy(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"gunicorn did not come up:\n{log.read().decode()[-2000:]}")
                time.sleep(0.2)
            yield port, server
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
