"""Signal receivers: changes made in the Django admin and failed sign-ins."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import AuditEvent
from .services import audit_record

ADMIN_ACTIONS = {
    ADDITION: AuditEvent.Action.ADMIN_ADDITION,
    CHANGE: AuditEvent.Action.ADMIN_CHANGE,
    DELETION: AuditEvent.Action.ADMIN_DELETION,
}


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_change")
def admin_change(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    """The admin writes a LogEntry for every addition, change and deletion it makes."""
    if not created:
        return
    audit_record(
        action=ADMIN_ACTIONS.get(instance.action_flag, AuditEvent.Action.ADMIN_CHANGE),
        actor=instance.user,
        target=f"{instance.content_type.app_label}.{instance.content_type.model} "
        f"#{instance.object_id}: {instance.object_repr}",
        detail={"change": instance.get_change_message()},
    )


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    """Only the name that was tried is kept; the password never reaches the trail."""
    audit_record(
        action=AuditEvent.Action.LOGIN_FAILED,
        target=str(credentials.get("username") or credentials.get("email") or ""),
        request=request,
    )
