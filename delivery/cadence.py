"""What is due at a moment: the pure rules of scheduled invitations and reminders.

No Django and no database: aware datetimes and the state of each partner in, the
messages due out. The scheduler feeds it from the delivery log; a test can run it over
a simulated month in microseconds.

Rules, for one wave and the partners of its active dyads:
- Nothing is due outside the wave (opens ≤ now < closes) or outside the sending hours
  (local time of the program's zone, ``send_from_hour`` ≤ hour < ``send_until_hour``).
- A partner who has submitted gets nothing.
- A partner never invited gets the invitation (when ``invite_on_open``), whenever the
  dyad was added: a late dyad is invited, never reminded first.
- A partner invited at ``t`` owes one reminder per slot passed: ``t`` + each of
  ``days_after_invitation`` and close − each of ``days_before_close``, counting only
  slots strictly between the invitation and the close, at most ``max_reminders``.
  Reminders already in the log (sent by hand too) count against the slots, and none
  goes out within ``min_gap_hours`` of the partner's last message.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

INVITATION = "invitation"
REMINDER = "reminder"


@dataclass(frozen=True)
class Cadence:
    """A program's (or a wave's) sending rules. Raises ``ValueError`` on bad values."""

    invite_on_open: bool = True
    days_after_invitation: tuple[int, ...] = (7, 14)
    days_before_close: tuple[int, ...] = (2,)
    max_reminders: int = 3
    send_from_hour: int = 9
    send_until_hour: int = 17
    time_zone: str = "UTC"
    min_gap_hours: int = 24

    def __post_init__(self) -> None:
        days = (*self.days_after_invitation, *self.days_before_close)
        if not all(isinstance(d, int) and d >= 0 for d in days):
            raise ValueError("Reminder days must be whole numbers of days, 0 or more.")
        if not 0 <= self.send_from_hour < self.send_until_hour <= 24:
            raise ValueError("Sending hours must satisfy 0 ≤ from < until ≤ 24.")
        if self.max_reminders < 0 or self.min_gap_hours < 0:
            raise ValueError("Counts and gaps cannot be negative.")
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"Unknown time zone {self.time_zone!r}.") from None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Partner:
    """One partner of one wave as the delivery log knows them.

    ``invited_at``: when their invitation was queued (None: never); ``reminders``: how
    many reminders the log holds for them; ``last_message_at``: their latest message.
    """

    key: Hashable
    invited_at: dt.datetime | None = None
    reminders: int = 0
    last_message_at: dt.datetime | None = None
    submitted: bool = False


@dataclass(frozen=True)
class Due:
    """A message due now: ``kind`` is ``invitation`` or ``reminder``; ``sequence`` is 0
    for the invitation and n for the n-th reminder (the delivery log's unique key)."""

    key: Hashable
    kind: str
    sequence: int


def within_sending_hours(moment: dt.datetime, cadence: Cadence) -> bool:
    """Whether ``moment`` falls in the sending hours of the cadence's time zone."""
    hour = moment.astimezone(cadence.zone).hour
    return cadence.send_from_hour <= hour < cadence.send_until_hour


def reminder_slots(
    invited_at: dt.datetime, closes_at: dt.datetime, cadence: Cadence
) -> list[dt.datetime]:
    """When each reminder falls for someone invited at ``invited_at``, in order."""
    slots = [invited_at + dt.timedelta(days=d) for d in cadence.days_after_invitation]
    slots += [closes_at - dt.timedelta(days=d) for d in cadence.days_before_close]
    return sorted({slot for slot in slots if invited_at < slot < closes_at})


def reminder_due(
    partner: Partner, *, now: dt.datetime, closes_at: dt.datetime, cadence: Cadence
) -> Due | None:
    """The reminder an invited partner is owed now, if any."""
    if partner.invited_at is None or partner.submitted:
        return None
    passed = sum(
        1 for slot in reminder_slots(partner.invited_at, closes_at, cadence) if slot <= now
    )
    owed = min(passed, cadence.max_reminders)
    last = partner.last_message_at or partner.invited_at
    if partner.reminders >= owed or now - last < dt.timedelta(hours=cadence.min_gap_hours):
        return None
    return Due(partner.key, REMINDER, partner.reminders + 1)


def due_messages(
    *,
    now: dt.datetime,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    cadence: Cadence,
    partners: Iterable[Partner],
) -> list[Due]:
    """Every message due at ``now`` for the partners of one wave (rules: module doc)."""
    if not opens_at <= now < closes_at or not within_sending_hours(now, cadence):
        return []
    due: list[Due] = []
    for partner in partners:
        if partner.submitted:
            continue
        if partner.invited_at is None:
            if cadence.invite_on_open:
                due.append(Due(partner.key, INVITATION, 0))
            continue
        reminder = reminder_due(partner, now=now, closes_at=closes_at, cadence=cadence)
        if reminder is not None:
            due.append(reminder)
    return due
