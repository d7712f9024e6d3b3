"""Sign-in addresses without their secret, for every log the app writes.

An invitation link (``/invite/<token>/``), an emailed sign-in link
(``/accounts/link/<uid>/<token>/``) and a password reset link
(``/accounts/password/reset/<uid>/<token>/``) each sign a person in: written to a log,
they would let whoever reads it in too. ``without_secrets`` writes such an address as
``/invite/[hidden]/`` and leaves every other address as it is. gunicorn's access log
uses it (``access_log``), and so does the app's own console log through
``HiddenSecretsFilter`` (Django logs "Not Found: /invite/…" for a refused link).
"""

from __future__ import annotations

import logging
import re

HIDDEN = "[hidden]"
SECRET_PATH = re.compile(
    r"(/invite/|/accounts/link/|/accounts/password/reset/)"
    r"(?!sent/|done/)"  # the "check your email" and "password changed" pages
    r"[^\s?#\"']+"
)


def without_secrets(text: str) -> str:
    """``text`` with the secret part of each sign-in address replaced by ``[hidden]/``."""
    return SECRET_PATH.sub(lambda found: f"{found.group(1)}{HIDDEN}/", text)


class HiddenSecretsFilter(logging.Filter):
    """Rewrites a record's message without sign-in secrets; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = without_secrets(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True
