"""Invitations and reminders of a wave (DESIGN §7, §9), for the coordinator pages and the
``send_invitations``/``send_reminders`` commands.

Nothing is mailed here: each call records the messages in the delivery log (the
``delivery`` app) and a background worker sends them, once each, retrying when the
mail server is away. Every email of an invitation carries its one link
(``tokens.invitation_url``); sending never changes it.
"""

from __future__ import annotations

from collections.abc import Iterable

from delivery.models import Audience, DeliveryBatch
from delivery.services import batch_request, deliveries_enqueue
from relationships.models import Participant

from .models import Wave


def invitations_send(*, wave: Wave, requested_by=None) -> int:
    """Queue an invitation for every partner of the wave's active dyads who has neither
    been invited nor submitted; returns how many were queued. Raises ``WaveClosed``."""
    batch = deliveries_enqueue(wave=wave, audience=Audience.NOT_INVITED, requested_by=requested_by)
    return batch.total


def reminders_send(
    *, wave: Wave, participants: Iterable[Participant] | None = None, requested_by=None
) -> int:
    """Queue the next message for each partner who has not submitted the wave: a
    reminder, or the invitation for someone never invited. With ``participants``,
    a reminder to each of them. Returns how many were queued. Raises ``WaveClosed``."""
    chosen = None if participants is None else [p.pk for p in participants]
    audience = Audience.NOT_SUBMITTED if chosen is None else Audience.CHOSEN
    batch = deliveries_enqueue(
        wave=wave, audience=audience, participant_ids=chosen, requested_by=requested_by
    )
    return batch.total


def wave_send_request(*, wave: Wave, audience: str, requested_by=None) -> DeliveryBatch:
    """A coordinator's send button: store the request and return at once; the worker
    plans the batch (``audience``: ``not_invited`` or ``not_submitted``) and sends it.
    Its progress is ``delivery.selectors.batch_progress``; ``total`` is what is queued
    so far (all of it when tasks run inside the caller). Raises ``WaveClosed``."""
    batch = batch_request(wave=wave, audience=audience, requested_by=requested_by)
    batch.refresh_from_db(fields=["planned_at", "total"])
    return batch
