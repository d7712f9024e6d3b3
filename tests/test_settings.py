"""Production settings: the deploy checks pass, and a missing secret stops the start."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Variables the test run sets for itself, which a production environment never has.
DROPPED = {"SECURE_SSL_REDIRECT", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "STATICFILES_BACKEND"}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in DROPPED}
    base.pop("SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("shared", [{}, {"REDIS_URL": "redis://127.0.0.1:6379/14"}])
def test_deploy_checks_print_no_warnings_with_production_settings(shared):
    """On one machine, and with the throttles' counters shared through Redis (a cache
    whose increment is atomic, as django-ratelimit requires)."""
    run = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="k" * 20 + "production-like-secret-with-enough-entropy-9x",
        ALLOWED_HOSTS="continuum.example.org",
        DEBUG="0",
        **shared,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


def test_the_app_refuses_to_start_without_a_secret_outside_debug():
    # gunicorn as deployed (gunicorn.conf.py): the worker cannot boot, so the server stops
    # (exit 3, which deploy/continuum-web.service does not restart) and says why.
    base = {k: v for k, v in os.environ.items() if k not in DROPPED}
    base.pop("SECRET_KEY", None)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    run = subprocess.run(
        [gunicorn, "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env={**base, "DEBUG": "0", "WEB_CONCURRENCY": "1", "GUNICORN_BIND": "127.0.0.1:0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 3
    assert "SECRET_KEY must be set when DEBUG is off" in run.stderr
    # and the commands that would serve or sign refuse in one line (tests/test_deploy.py)
    refused = manage("runserver", DEBUG="0")
    assert refused.returncode == 2 and "SECRET_KEY must be set" in refused.stderr


def test_a_malformed_boolean_is_reported_by_name():
    run = manage("check", DEBUG="maybe")
    assert run.returncode != 0 and "DEBUG must be a boolean" in run.stderr


PROBE = """
import json
from django.conf import settings
from django.test import Client
client = Client()
plain = client.get("/", HTTP_HOST="continuum.example.org")
page = client.get("/", secure=True, HTTP_HOST="continuum.example.org")
print(json.dumps({
    "redirect": [plain.status_code, plain.get("Location")],
    "headers": dict(page.headers),
    "cookies": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY,
                settings.SESSION_COOKIE_SAMESITE, settings.CSRF_COOKIE_SECURE,
                settings.SESSION_COOKIE_AGE],
    "hasher": settings.PASSWORD_HASHERS[0],
    "validators": len(settings.AUTH_PASSWORD_VALIDATORS),
}))
"""


def test_production_responses_carry_the_security_headers(tmp_path):
    run = manage(
        "shell",
        "-c",
        PROBE,
        SECRET_KEY="k" * 20 + "production-like-secret-with-enough-entropy-9x",
        ALLOWED_HOSTS="continuum.example.org",
        DEBUG="0",
        SQLITE_PATH=str(tmp_path / "probe.sqlite3"),
        # no collectstatic here; production serves the hashed manifest files
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["redirect"] == [301, "https://continuum.example.org/"]
    headers = seen["headers"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert seen["cookies"] == [True, True, "Lax", True, 8 * 60 * 60]
    assert seen["hasher"].endswith("Argon2PasswordHasher") and seen["validators"] == 4
