"""Production settings: the deploy checks pass, and a missing secret stops the start."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_deploy_checks_print_no_warnings_with_production_settings():
    run = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="k" * 20 + "production-like-secret-with-enough-entropy-9x",
        ALLOWED_HOSTS="continuum.example.org",
        DEBUG="0",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


def test_the_app_refuses_to_start_without_a_secret_outside_debug():
    run = manage("check", DEBUG="0")
    assert run.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in run.stderr


def test_a_malformed_boolean_is_reported_by_name():
    run = manage("check", DEBUG="maybe")
    assert run.returncode != 0 and "DEBUG must be a boolean" in run.stderr
