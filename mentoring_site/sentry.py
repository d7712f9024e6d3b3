"""Error reports to Sentry, started by settings only when ``SENTRY_DSN`` is set.

Nothing personal is sent: no user, cookies or client address (``send_default_pii``
off), no request bodies (they hold survey answers), no local variables of the failing
frames, and of the request only its method, since an address can hold a sign-in token
(``/invite/<token>/``); the event's transaction already names the route
(``/invite/{token}/``). Each event is tagged with the request id, which finds the
request's log lines.
"""

from __future__ import annotations

from typing import Any

from mentoring_site import request_id


def sentry_start(*, dsn: str, environment: str, release: str | None = None) -> None:
    """Initialise sentry-sdk with the Django integration (imported only when called)."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=event_scrubbed,
    )


def event_scrubbed(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """The event with its request cut down to the method and the request id as a tag."""
    if "request" in event:
        event["request"] = {"method": event["request"].get("method")}
    current = request_id.current()
    if current:
        event.setdefault("tags", {})["request_id"] = current
    return event
