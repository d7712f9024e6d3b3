"""The id of the request (or task) being served, carried into every log line.

A request's id comes from the proxy's ``X-Request-ID`` header when it is a sane token
(``accept``), otherwise a fresh one is made; ``middleware.RequestIdMiddleware`` binds it
for the request, puts it on the response and clears it when the response is closed.
``RequestIdFilter`` (settings ``LOGGING``) copies it onto every log record as
``request_id``, so the JSON log lines of one request share it, and error reports are
tagged with it.

Background tasks run in another process, so the id travels with the task's arguments::

    from mentoring_site.request_id import bound, current

    # where the task is enqueued (inside a request): pass the request's id along
    send_invitation.enqueue(invitation_id=invitation.pk, request_id=current())

    # the task binds it for its run
    def send_invitation(*, invitation_id: int, request_id: str | None = None) -> None:
        with bound(request_id):
            ...  # every log line here carries the request's id

``bound(None)`` (a task enqueued by the scheduler, outside any request) binds a fresh
id, so the lines of one task run still belong together.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
# Letters, digits and . _ : - only, up to 100 characters: UUIDs, nginx's $request_id and
# the ids of common load balancers fit; nothing can break a log line or a header.
SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def new() -> str:
    """A fresh id: 32 hexadecimal characters, like nginx's ``$request_id``."""
    return uuid.uuid4().hex


def accept(value: str | None) -> str:
    """``value`` when it is a sane token, otherwise a fresh id."""
    if value and SANE.fullmatch(value):
        return value
    return new()


def current() -> str | None:
    """The id bound in this context (request or task), or None outside both."""
    return _current.get()


def begin(value: str | None) -> str:
    """Bind ``accept(value)`` until ``end``; returns the id bound. For the middleware,
    whose binding must outlive the view while a streamed response is still read."""
    bound_id = accept(value)
    _current.set(bound_id)
    return bound_id


def end() -> None:
    """Forget the id bound by ``begin``."""
    _current.set(None)


@contextmanager
def bound(value: str | None) -> Iterator[str]:
    """Bind ``accept(value)`` for the block (a task's run), then restore what was there."""
    token = _current.set(accept(value))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current id (or ``-``) on every record as ``request_id``; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current() or "-"
        return True
