"""Bounces reported by an API mail provider (django-anymail's ``tracking`` signal).

With an API provider (docs/delivery.md), a message the provider accepted can still
bounce or be rejected later. The provider's tracking webhook, checked by anymail (a
signature or a shared secret), reports it; the message named by the event's metadata
(``delivery.messages`` sets ``{"delivery": id}`` on every email) is marked failed with
the provider's reason, so it shows among the program's failed messages, ready to be
sent again once the address is corrected.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from .models import Delivery

# anymail's normalised event types that mean the message never reached its reader.
UNDELIVERED = {"bounced", "rejected", "failed"}


def bounce_error(*, esp_name: str, event_type: str, description: str, response: str) -> str:
    """The ``last_error`` a bounced message gets: who said what."""
    reason = description or response or "no reason given"
    return f"{esp_name} reported {event_type}: {reason}"[:2000]


def delivery_bounced(
    *, delivery_id: str, recipient: str, esp_name: str, event_type: str, reason: str = "",
    response: str = "",
) -> bool:  # fmt: skip
    """Mark a sent message failed after the provider reported it undelivered; returns
    whether a message was marked. Only a sent message to the event's address is: an
    event about another environment's message with the same id, or naming no address,
    changes nothing."""
    if not delivery_id.isdigit() or not recipient:
        return False
    same_address = Q(to_email__iexact=recipient)
    marked = Delivery.objects.filter(
        same_address, pk=int(delivery_id), status=Delivery.Status.SENT
    ).update(
        status=Delivery.Status.FAILED,
        updated_at=timezone.now(),
        last_error=bounce_error(
            esp_name=esp_name, event_type=event_type, description=reason, response=response
        ),
    )
    return bool(marked)


def on_tracking(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """anymail's ``tracking`` signal: bounces and rejections fail their message."""
    if event.event_type not in UNDELIVERED:
        return
    delivery_id = str((event.metadata or {}).get("delivery", ""))
    delivery_bounced(
        delivery_id=delivery_id,
        recipient=event.recipient or "",
        esp_name=esp_name,
        event_type=event.event_type,
        reason=event.description or "",
        response=event.mta_response or "",
    )
