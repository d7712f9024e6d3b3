"""gunicorn's access log without the secrets some addresses carry.

An invitation link (``/invite/<token>/``), an emailed sign-in link
(``/accounts/link/<uid>/<token>/``) and a password reset link
(``/accounts/password/reset/<uid>/<token>/``) each sign a person in: written to a log,
they would let whoever reads it in too. ``gunicorn.conf.py`` names this logger, which
writes such addresses as ``/invite/[hidden]/``, in the request line and in the referer
alike (a page reached from a link names the link as its referer), and leaves every
other address as it is.
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

HIDDEN = "[hidden]"
SECRET_PATH = re.compile(
    r"(/invite/|/accounts/link/|/accounts/password/reset/)"
    r"(?!sent/|done/)"  # the "check your email" and "password changed" pages
    r"[^\s?#\"]+"
)


def without_secrets(text: str) -> str:
    """``text`` with the secret part of each sign-in address replaced by ``[hidden]/``."""
    return SECRET_PATH.sub(lambda found: f"{found.group(1)}{HIDDEN}/", text)


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        found = super().atoms(resp, req, environ, request_time)
        return {
            name: without_secrets(value) if isinstance(value, str) else value
            for name, value in found.items()
        }
