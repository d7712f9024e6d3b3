"""The sending side: claim due rows, send them over one SMTP connection, record each.

A worker claims a batch with one short transaction (``SELECT … FOR UPDATE SKIP LOCKED``
on PostgreSQL; on SQLite one ``UPDATE … WHERE id IN (SELECT … LIMIT n)``, which the
database runs whole), so two workers never hold the same row. Each message is marked
sent right after the mail server accepted it, so a killed worker can at most repeat the
message it had in flight; rows it held stay ``sending`` until the lease runs out and
are then claimed again.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.db.models import F, Subquery
from django.utils import timezone

from assessments.models import AlertFollowUp, Invitation, Response
from relationships.models import CoordinatorMembership

from . import queue
from .messages import RELATED, delivery_message, recipient_address
from .models import NOTICE_KINDS, Delivery, Kind, NotificationPreference
from .selectors import message_templates

logger = logging.getLogger(__name__)
Status = Delivery.Status


@dataclass
class Outcome:
    """What one ``deliveries_send`` run did."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    cancelled: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


# --- claiming ------------------------------------------------------------------------------


def deliveries_claim(*, now: dt.datetime, size: int) -> str | None:
    """Take up to ``size`` due rows for this worker; returns the claim token, or None
    when nothing is due. Each claim counts as an attempt."""
    token = uuid.uuid4().hex
    due = Delivery.objects.claimable(now=now, lease_seconds=settings.DELIVERY_LEASE_SECONDS)
    due = due.order_by("next_attempt_at", "pk")
    changes = {"status": Status.SENDING, "claim": token, "claimed_at": now}
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:size])
            claimed = Delivery.objects.filter(pk__in=ids).update(
                **changes, attempts=F("attempts") + 1
            )
        else:
            chosen = Subquery(due.values("pk")[:size])
            claimed = Delivery.objects.filter(pk__in=chosen).update(
                **changes, attempts=F("attempts") + 1
            )
    return token if claimed else None


# --- what no longer needs sending ------------------------------------------------------------


def _participant_skips(rows: list[Delivery], now: dt.datetime) -> dict[int, str]:
    invitations = [row.invitation for row in rows if row.invitation_id]
    waves = {i.wave_id for i in invitations}
    done = set(
        Response.objects.submitted()
        .filter(wave_id__in=waves, dyad_id__in={i.dyad_id for i in invitations})
        .values_list("wave_id", "dyad_id", "respondent_id")
    )
    skips = {}
    for row in rows:
        invitation = row.invitation
        if invitation is None:
            continue
        reason = (
            "already submitted"
            if (invitation.wave_id, invitation.dyad_id, invitation.participant_id) in done
            else "link revoked"
            if invitation.revoked_at is not None
            else "wave not open"
            if not invitation.wave.is_open(now)
            else "dyad ended"
            if not invitation.dyad.is_active
            else ""
        )
        if reason:
            skips[row.pk] = reason
    return skips


def _coordinator_skips(rows: list[Delivery]) -> dict[int, str]:
    notices = [row for row in rows if row.kind in NOTICE_KINDS]
    if not notices:
        return {}
    users = {r.recipient_id for r in notices}
    choices = {
        (user, program): choice
        for user, program, choice in NotificationPreference.objects.filter(
            user_id__in=users
        ).values_list("user_id", "program_id", "alerts")
    }
    followed = set(
        AlertFollowUp.objects.filter(dyad_id__in={r.dyad_id for r in notices}).values_list(
            "dyad_id", "wave_id", "reason"
        )
    )
    member = set(
        CoordinatorMembership.objects.filter(user_id__in=users).values_list("user_id", "program_id")
    )
    skips = {}
    for row in notices:
        choice = choices.get((row.recipient_id, row.program_id), "")
        reason = (
            "no longer a coordinator"
            if (row.recipient_id, row.program_id) not in member
            else "notifications off"
            if choice == NotificationPreference.Alerts.NONE
            or (row.kind == Kind.ALERT and choice == NotificationPreference.Alerts.DIGEST)
            else "followed up"
            if row.kind == Kind.ALERT
            and (row.dyad_id, row.wave_id, row.topic.rsplit("/", 1)[-1]) in followed
            else ""
        )
        if reason:
            skips[row.pk] = reason
    return skips


# --- recording outcomes --------------------------------------------------------------------


def _mine(row: Delivery, token: str):
    return Delivery.objects.filter(pk=row.pk, claim=token, status=Status.SENDING)


# PostgreSQL: the mark and the invitation's times in one statement, one round trip.
MARK_SQL = f"""
WITH marked AS (
    UPDATE {Delivery._meta.db_table}
    SET status = 'sent', sent_at = %(now)s, to_email = %(address)s, last_error = '',
        claim = '', updated_at = %(now)s
    WHERE id = %(id)s AND claim = %(token)s AND status = 'sending'
    RETURNING id, invitation_id, kind
), touched AS (
    UPDATE {Invitation._meta.db_table} AS i
    SET sent_at = CASE WHEN m.kind = 'invitation' THEN COALESCE(i.sent_at, %(now)s)
                       ELSE i.sent_at END,
        reminded_at = CASE WHEN m.kind = 'reminder' THEN %(now)s ELSE i.reminded_at END,
        reminder_count = i.reminder_count + CASE WHEN m.kind = 'reminder' THEN 1 ELSE 0 END
    FROM marked AS m
    WHERE i.id = m.invitation_id
)
SELECT count(*) FROM marked
"""


def _flush_later(on: bool = True) -> None:
    """On PostgreSQL, let this connection's commits return before their WAL reaches
    the disk (``synchronous_commit`` off, for this worker's session only): one mark per
    message would otherwise wait for a disk flush each. Only a crash of the database
    server itself (not of a worker) can lose the last fraction of a second of marks;
    those messages are then sent again once their lease runs out."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO " + ("OFF" if on else "DEFAULT"))


def _mark_sent(row: Delivery, token: str, now: dt.datetime, address: str) -> bool:
    """Record an accepted message, and on the invitation when it was sent or reminded."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(MARK_SQL, {"now": now, "address": address, "id": row.pk,
                                      "token": token})  # fmt: skip
            return bool(cursor.fetchone()[0])
    with transaction.atomic():
        marked = _mine(row, token).update(
            status=Status.SENT, sent_at=now, to_email=address, last_error="", claim=""
        )
        if marked and row.kind == Kind.INVITATION:
            Invitation.objects.filter(pk=row.invitation_id, sent_at__isnull=True).update(
                sent_at=now
            )
        elif marked and row.kind == Kind.REMINDER:
            Invitation.objects.filter(pk=row.invitation_id).update(
                reminded_at=now, reminder_count=F("reminder_count") + 1
            )
    return bool(marked)


def _finish(row: Delivery, token: str, status: str, error: str) -> None:
    _mine(row, token).update(status=status, last_error=error[:2000], claim="")


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt (the last setting repeats)."""
    delays = settings.DELIVERY_RETRY_SECONDS
    return dt.timedelta(seconds=delays[min(attempts, len(delays)) - 1])


def _retry_or_fail(row: Delivery, token: str, error: str, now: dt.datetime) -> dt.datetime | None:
    """A temporary failure: queue the row again after a back-off, or fail it after the
    last attempt. Returns when it is due again (None when it failed)."""
    if row.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        _finish(row, token, Status.FAILED, error)
        return None
    due = now + retry_delay(row.attempts)
    _mine(row, token).update(
        status=Status.QUEUED, next_attempt_at=due, last_error=error[:2000], claim=""
    )
    return due


def _release(rows: list[Delivery], token: str, due: dt.datetime) -> None:
    """Give back rows not tried (the server went away): no attempt is counted."""
    Delivery.objects.filter(pk__in=[r.pk for r in rows], claim=token, status=Status.SENDING).update(
        status=Status.QUEUED, next_attempt_at=due, claim="", attempts=F("attempts") - 1
    )


# --- SMTP errors ---------------------------------------------------------------------------


def is_permanent(error: BaseException) -> bool:
    """Whether the mail server refused the message for good (a 5xx reply).

    Anything else (4xx replies, a dropped connection, a refused or timed-out socket) is
    temporary and retried.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return False
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return not isinstance(error, OSError | smtplib.SMTPException)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# --- sending -------------------------------------------------------------------------------


def _send_claimed(token: str, now: dt.datetime, outcome: Outcome) -> None:
    rows = list(Delivery.objects.filter(claim=token).select_related(*RELATED).order_by("pk"))
    skips = {**_participant_skips(rows, now), **_coordinator_skips(rows)}
    backend = mail.get_connection()
    try:
        backend.open()
    except Exception as error:  # the server is down: every row waits
        _connection_failed(rows, token, error, now, outcome)
        return
    templates = message_templates(program_ids=_programs(rows))
    try:
        _send_rows(rows, skips, templates, backend, token, now, outcome)
    finally:
        try:
            backend.close()
        except Exception:  # closing a broken connection changes nothing sent
            logger.debug("closing the mail connection failed", exc_info=True)


def _connection_failed(rows, token: str, error: BaseException, now, outcome: Outcome) -> None:
    text = _describe(error)
    outcome.errors.append(text)
    retries = [_retry_or_fail(row, token, text, now) for row in rows]
    due = [moment for moment in retries if moment is not None]
    outcome.retrying += len(due)
    outcome.failed += len(retries) - len(due)
    if due:
        queue.send_at(min(due))


def _programs(rows: list[Delivery]) -> set[int]:
    """The programs whose wording the rows' emails use."""
    return {
        row.invitation.dyad.cohort.program_id if row.invitation_id else row.program_id
        for row in rows
        if row.kind in (Kind.INVITATION, Kind.REMINDER, Kind.TEST)
    }


def _send_rows(rows, skips, templates, backend, token: str, now, outcome: Outcome) -> None:
    for index, row in enumerate(rows):
        if row.pk in skips:
            _finish(row, token, Status.CANCELLED, skips[row.pk])
            outcome.cancelled += 1
            continue
        address = recipient_address(row)
        if not address:
            _finish(row, token, Status.CANCELLED, "no email address")
            outcome.cancelled += 1
            continue
        try:
            backend.send_messages([delivery_message(row, now=now, templates=templates)])
        except Exception as error:
            text = _describe(error)
            outcome.errors.append(text)
            if is_permanent(error):
                _finish(row, token, Status.FAILED, text)
                outcome.failed += 1
                continue
            due = _retry_or_fail(row, token, text, now)
            outcome.retrying += due is not None
            outcome.failed += due is None
            # The connection is likely gone: hand the rest back untried.
            _release(rows[index + 1 :], token, due or now + retry_delay(1))
            queue.send_at(due or now + retry_delay(1))
            return
        outcome.sent += _mark_sent(row, token, now, address)


def deliveries_send(
    *,
    now: dt.datetime | None = None,
    batch_size: int | None = None,
    time_limit: float | None = None,
) -> Outcome:
    """Send every due message, batch after batch, until none is due.

    ``now`` fixes the clock (a simulated schedule); otherwise each batch reads it.
    After ``time_limit`` seconds the run stops and enqueues another send task, so
    one long send never holds a worker for hours.
    """
    outcome = Outcome()
    size = batch_size or settings.DELIVERY_BATCH_SIZE
    started = time.monotonic()
    _flush_later()
    try:
        while True:
            moment = now or timezone.now()
            token = deliveries_claim(now=moment, size=size)
            if token is None:
                return outcome
            outcome.batches += 1
            _send_claimed(token, moment, outcome)
            if time_limit is not None and time.monotonic() - started > time_limit:
                queue.send_soon(1)
                return outcome
    finally:
        _flush_later(on=False)
