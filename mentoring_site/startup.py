"""Which management commands may run without ``SECRET_KEY``, and the one line for the rest.

Outside DEBUG a missing ``SECRET_KEY`` leaves the setting empty rather than stopping the
settings module, so a release step can run ``migrate`` or ``collectstatic`` before the
secret is there; Django itself refuses every use of an empty key. What must not start
without the secret is stopped here with one line and exit status 2:

- serving (``runserver``; ``wsgi.py`` refuses the same way under gunicorn);
- anything that signs: sessions, password-reset and sign-in tokens, the invitation
  links in emails (``send_invitations``, ``send_reminders``, the task worker and
  scheduler, which deliver them), ``shell`` and ``check`` (it vouches for a
  configuration that could not serve).

The commands below never sign anything: they change the schema, static files, a
password hash (Argon2 takes no secret) or housekeeping tables, or read and write
research data. Any command not listed needs the secret, so a new one is refused
until someone decides otherwise.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MISSING = "SECRET_KEY must be set when DEBUG is off"
EXIT_STATUS = 2

COMMANDS_WITHOUT_SECRET = frozenset(
    {
        # Django's own help and version
        "help",
        "version",
        # schema and static files: release steps
        "migrate",
        "makemigrations",
        "showmigrations",
        "sqlmigrate",
        "collectstatic",
        "findstatic",
        # accounts and housekeeping
        "createsuperuser",
        "changepassword",
        "clearsessions",
        "dbshell",
        "axes_list_attempts",
        "axes_reset",
        "axes_reset_ip",
        "axes_reset_username",
        "axes_reset_ip_username",
        "axes_reset_logs",
        "axes_reset_failure_logs",
        "jobs_forget",
        # research data: instruments, dyads, answers, scores and pseudonymised files
        "load_instrument",
        "import_dyads",
        "import_responses",
        "recompute_scores",
        "export_cohort",
    }
)


def command_name(argv: list[str]) -> str:
    """The subcommand Django's ``ManagementUtility`` runs for ``argv``."""
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        return "help"
    if argv[1] == "--version":
        return "version"
    return argv[1]


def needs_secret(argv: list[str]) -> bool:
    """Whether ``argv`` runs something that needs ``SECRET_KEY``; asking a command for
    its ``--help`` never does."""
    if any(arg in ("-h", "--help") for arg in argv[2:]):
        return False
    return command_name(argv) not in COMMANDS_WITHOUT_SECRET


def secret_missing() -> bool:
    """Whether the settings run without a secret (only possible outside DEBUG).

    Reading ``settings.DEBUG`` first loads the settings module, so its own errors (a
    malformed variable) surface as themselves; after that, only an empty
    ``SECRET_KEY`` makes Django refuse to hand it out."""
    settings.DEBUG  # noqa: B018 - loads the settings
    try:
        settings.SECRET_KEY  # noqa: B018 - Django refuses an empty key on access
    except ImproperlyConfigured:
        return True
    return False


def refusal(argv: list[str]) -> str | None:
    """The one line ``manage.py`` prints instead of running ``argv``, or None to run it."""
    if needs_secret(argv) and secret_missing():
        return f"manage.py {command_name(argv)}: {MISSING} (docs/deployment.md, Environment)."
    return None


def require_secret() -> None:
    """For the web application: refuse to start without a secret outside DEBUG."""
    if secret_missing():
        raise ImproperlyConfigured(f"{MISSING}: the web application does not start without it.")
