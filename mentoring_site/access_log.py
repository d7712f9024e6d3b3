"""gunicorn's access log without the secrets some addresses carry: ``gunicorn.conf.py``
names this logger, which writes sign-in addresses as ``/invite/[hidden]/``
(``sign_in_paths``), in the request line and in the referer alike (a page reached from a
link names the link as its referer)."""

from __future__ import annotations

from gunicorn.glogging import Logger

from mentoring_site.sign_in_paths import without_secrets


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        found = super().atoms(resp, req, environ, request_time)
        return {
            name: without_secrets(value) if isinstance(value, str) else value
            for name, value in found.items()
        }
