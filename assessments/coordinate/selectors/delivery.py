"""Reads of the coordinator's email pages: what a send button would send, a send's
progress, failed messages, the program's wording, schedule and coordinators' notices.

Each read is a fixed number of queries whatever the size of the program.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.utils import timezone

from assessments.models import Role, Wave
from delivery import selectors as delivery_selectors
from delivery.messages import Wording, example_values, program_wording
from delivery.models import (
    Audience,
    Delivery,
    DeliveryBatch,
    DeliverySchedule,
    Kind,
    MessageTemplate,
    NotificationPreference,
)
from delivery.wording import fill, one_line, paragraphs
from relationships.models import Cohort, CoordinatorMembership, Program, User

FAILED_PER_PAGE = 50
PROGRESS_COUNTS = ("planned", "total", "queued", "sending", "sent", "failed", "cancelled")


def send_choices(*, wave: Wave) -> list[dict[str, Any]]:
    """The two send buttons of a wave with how many messages each would queue now."""
    counts = delivery_selectors.audience_counts(wave=wave) if wave.is_open() else {}
    return [
        {"audience": Audience.NOT_INVITED, "url": "coordinate:wave_invite",
         "count": counts.get(Audience.NOT_INVITED, 0)},
        {"audience": Audience.NOT_SUBMITTED, "url": "coordinate:wave_remind",
         "count": counts.get(Audience.NOT_SUBMITTED, 0)},
    ]  # fmt: skip


def progress_data(*, batch: DeliveryBatch) -> dict[str, Any]:
    """A send batch's progress as JSON data: counts per status, ``done`` and
    ``finished`` (messages no longer waiting), read fresh (two queries)."""
    progress = delivery_selectors.batch_progress(batch=batch)
    counts = {key: getattr(progress, key) for key in PROGRESS_COUNTS}
    finished = progress.sent + progress.failed + progress.cancelled
    return {**counts, "done": progress.done, "finished": finished}


# --- failed messages -----------------------------------------------------------------------


def _recipient(row: Delivery) -> dict[str, str]:
    """To whom a failed message went: a dyad's partner by role, or a coordinator."""
    invitation = row.invitation
    if invitation is None:
        return {"dyad": "", "cohort": "", "role": "", "to": row.recipient.email, "wave": ""}
    dyad = invitation.dyad
    role = Role.MENTOR if invitation.participant_id == dyad.mentor_id else Role.PROTEGE
    return {
        "dyad": dyad.research_code,
        "cohort": dyad.cohort.slug,
        "role": str(role.label),
        "to": "",
        "wave": str(invitation.wave),
    }


def _message_label(row: Delivery) -> str:
    """``Invitation``, ``Reminder 2``, ``Alert to coordinators``…"""
    label = str(row.get_kind_display())
    return f"{label} {row.sequence}" if row.kind == Kind.REMINDER else label


def failed_page(*, program: Program, cohort: Cohort | None, page: str | None) -> Page:
    """One page of the program's failed messages, newest first (two queries); each row
    is a dict of the message, to whom it went and its last error."""
    found = delivery_selectors.failed_deliveries(program=program, cohort=cohort)
    shown = Paginator(found, FAILED_PER_PAGE).get_page(page)
    shown.object_list = [
        {
            "id": row.pk,
            "label": _message_label(row),
            "attempts": row.attempts,
            "error": row.last_error,
            "at": row.updated_at,
            **_recipient(row),
        }
        for row in shown.object_list
    ]
    return shown


# --- wording -------------------------------------------------------------------------------


def wording_overview(*, program: Program) -> list[dict[str, Any]]:
    """Each participant message of the program: its subject and whether the program
    has its own wording (one query)."""
    own = delivery_selectors.message_templates(program_ids={program.pk})
    return [
        {
            "kind": kind,
            "label": label,
            "subject": program_wording(program.pk, kind, own).subject,
            "own": (program.pk, kind) in own,
            "updated_at": own[(program.pk, kind)].updated_at if (program.pk, kind) in own else None,
        }
        for kind, label in MessageTemplate.Purpose.choices
    ]


def saved_wording(*, program: Program, kind: str) -> tuple[Wording, bool]:
    """The wording of ``kind`` the program sends now, and whether it is its own."""
    own = delivery_selectors.message_templates(program_ids={program.pk})
    return program_wording(program.pk, kind, own), (program.pk, kind) in own


def wording_preview(*, program: Program, subject: str, body: str) -> dict[str, Any]:
    """A message as a participant would read it, filled with made-up people: the
    subject, the text part and the paragraphs the HTML part is drawn from."""
    values = example_values(program.name, timezone.now())
    return {
        "subject": one_line(fill(subject, values)),
        "text": fill(body, values),
        "paragraphs": paragraphs(body, values),
        "values": values,
    }


# --- schedule and notices ------------------------------------------------------------------


def program_schedule(*, program: Program) -> DeliverySchedule | None:
    """The program's own schedule (not a wave's), or None: nothing goes out on its own."""
    return DeliverySchedule.objects.filter(program=program, wave__isnull=True).first()


def coordinator_notices(*, program: Program, user: User) -> dict[str, Any]:
    """The user's own choice of alert emails for the program and every coordinator's
    (two queries). Without a stored choice a coordinator gets every alert."""
    members = CoordinatorMembership.objects.filter(program=program).select_related("user")
    chosen = dict(
        NotificationPreference.objects.filter(program=program).values_list("user_id", "alerts")
    )
    labels = dict(NotificationPreference.Alerts.choices)
    default = NotificationPreference.Alerts.IMMEDIATE
    rows = [
        {
            "name": m.user.get_full_name() or m.user.email,
            "email": m.user.email,
            "choice": labels[chosen.get(m.user_id, default)],
            "is_me": m.user_id == user.pk,
        }
        for m in sorted(members, key=lambda m: m.user.email)
    ]
    return {
        "mine": chosen.get(user.pk, default),
        "member": any(row["is_me"] for row in rows),
        "coordinators": rows,
    }
