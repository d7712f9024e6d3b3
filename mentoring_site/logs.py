"""Log lines as JSON objects, one a line, for a log collector to index (``LOG_FORMAT=json``).

Each line holds ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``,
``message``, ``request_id`` (``request_id.RequestIdFilter``), ``exception`` when there is
one, and any ``extra={...}`` value that is a plain string, number, boolean or None.
Objects passed as extras (Django puts the request on its records) are left out: their
text could hold anything.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_PLAIN = (str, int, float, bool, type(None))


def record_fields(record: logging.LogRecord) -> dict:
    """The fields of one log line, in a stable order."""
    fields = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage(),
        "request_id": getattr(record, "request_id", "-"),
    }
    fields.update(
        (key, value)
        for key, value in record.__dict__.items()
        if key not in _STANDARD and key not in fields and isinstance(value, _PLAIN)
    )
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per record; a traceback goes into ``exception``, never across lines."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return json.dumps(fields, ensure_ascii=False, default=str)


def logging_config(*, log_format: str, level: str) -> dict:
    """The ``LOGGING`` setting: ``log_format`` ("json" or "text") on the console, every
    line with its request id and without sign-in secrets (``sign_in_paths``); failed
    requests and background tasks mailed to ``ADMINS``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "mentoring_site.request_id.RequestIdFilter"},
            "hidden_secrets": {"()": "mentoring_site.sign_in_paths.HiddenSecretsFilter"},
            "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        },
        "formatters": {
            "json": {"()": "mentoring_site.logs.JsonFormatter"},
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id", "hidden_secrets"],
            },
            "mail_admins": {
                "class": "django.utils.log.AdminEmailHandler",
                "level": "ERROR",
                "filters": ["require_debug_false", "request_id"],
            },
        },
        "root": {"handlers": ["console"], "level": level.upper()},
        "loggers": {
            # Failed requests (500s, security refusals) and failed background tasks are
            # mailed to ADMINS; both still reach the console through the root logger.
            "django": {"handlers": ["mail_admins"], "level": level.upper()},
            "django_tasks": {"handlers": ["mail_admins"]},
            # A wrong Host header is a scanner, not a fault: logged, never mailed.
            "django.security.DisallowedHost": {"handlers": ["console"], "propagate": False},
            # runserver's request lines (development only; gunicorn logs its own)
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
