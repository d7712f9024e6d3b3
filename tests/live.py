"""A real app server in a child process, and a small HTTP client for it (tests only).

gunicorn serves ``mentoring_site.wsgi`` with production settings (DEBUG off) on a free
local port against the database given in ``DATABASE_URL`` or ``SQLITE_PATH``. Session
cookies are sent by hand: outside DEBUG they are marked Secure, and this is plain HTTP.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(**database: str) -> dict[str, str]:
    """The environment of a production-like server on ``database`` (DATABASE_URL=… or
    SQLITE_PATH=…)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    return {
        **env,
        **database,
        "DEBUG": "0",
        # the test's own key, so sessions the test writes are valid for the server
        "SECRET_KEY": os.environ.get("SECRET_KEY", "continuum-live-test-not-secret"),
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "DB_CONN_MAX_AGE": "0",
    }


def manage(env: dict[str, str], *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


class Server:
    """gunicorn in its own process group, so one signal reaches master and workers."""

    def __init__(self, env: dict[str, str], workers: int = 2, threads: int = 8):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "mentoring_site.wsgi",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--worker-class", "gthread", "--threads", str(threads), "--timeout", "60"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read().decode(errors="replace"))
            try:
                if Client(self.port).get("/healthz").status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not answer /healthz in time")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing; whatever is in flight is cut off."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: str):
        self.status, self.headers, self.body = status, headers, body


class Client:
    """One keep-alive connection with its own cookies."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = dict(cookies or {})

    def request(self, method: str, path: str, form: dict | None = None, headers=None) -> Reply:
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=sent)
        answer = self.connection.getresponse()
        text = answer.read().decode(errors="replace")
        for name, value in answer.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return Reply(answer.status, {k.lower(): v for k, v in answer.getheaders()}, text)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict, token: str) -> Reply:
        return self.request("POST", path, form, {"X-CSRFToken": token})

    def sign_in(self, email: str, password: str) -> None:
        page = self.get("/accounts/login/")
        token = CSRF_FIELD.search(page.body).group(1)
        reply = self.post("/accounts/login/", {"username": email, "password": password}, token)
        assert reply.status == 302, reply.body[:500]

    def token(self, page: Reply) -> str:
        return CSRF_FIELD.search(page.body).group(1)


def session_cookies(user) -> dict[str, str]:
    """Cookies of a signed-in session for ``user``, written straight to the database, and
    a CSRF secret to send back in the X-CSRFToken header."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.crypto import get_random_string

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"sessionid": session.session_key, "csrftoken": get_random_string(32)}
