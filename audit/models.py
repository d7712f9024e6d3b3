from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One sensitive action: who, what, when, on what and in which program. Rows are only
    ever added: the admin shows them read-only.

    The program is kept as its slug, as the actor as a label, so the trail depends on
    nothing of the product and outlives what it names.
    """

    class Action(models.TextChoices):
        ADMIN_ADDITION = "admin.addition", _("admin: added")
        ADMIN_CHANGE = "admin.change", _("admin: changed")
        ADMIN_DELETION = "admin.deletion", _("admin: deleted")
        EXPORT = "export", _("cohort exported")
        FOLLOW_UP = "alert.follow_up", _("alert followed up")
        COHORT_CREATED = "cohort.created", _("cohort created")
        WAVE_SCHEDULED = "wave.scheduled", _("wave scheduled")
        WAVE_CHANGED = "wave.changed", _("wave changed")
        WAVE_CLOSED = "wave.closed", _("wave closed")
        INVITATIONS_SENT = "wave.invitations_sent", _("invitations sent")
        REMINDERS_SENT = "wave.reminders_sent", _("reminders sent")
        DYAD_CREATED = "dyad.created", _("dyad added")
        DYADS_IMPORTED = "dyads.imported", _("dyads imported")
        DYAD_ENDED = "dyad.ended", _("dyad ended")
        DYADS_DOWNLOADED = "dyads.downloaded", _("dyad list downloaded")
        RESPONSES_IMPORTED = "responses.imported", _("responses imported")
        SCORES_RECOMPUTED = "scores.recomputed", _("scores recomputed")
        TOKEN_REVOKED = "token.revoked", _("magic link revoked")
        LOGIN_FAILED = "login.failed", _("sign-in failed")
        DATA_DOWNLOAD = "participant.download", _("participant downloaded own data")
        DELETION_REQUEST = "participant.deletion_request", _("participant asked for deletion")
        ERASURE = "participant.erased", _("participant erased")
        DELIVERY_RETRIED = "delivery.retried", _("failed email queued again")
        WORDING_CHANGED = "delivery.wording_changed", _("email wording changed")
        WORDING_TESTED = "delivery.wording_tested", _("test email sent")
        SCHEDULE_CHANGED = "delivery.schedule_changed", _("sending schedule changed")
        NOTICES_CHANGED = "delivery.notices_changed", _("coordinator notices changed")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(
        _("who (as recorded)"),
        max_length=254,
        blank=True,
        help_text=_("The account as it was named at the time; kept if the account goes."),
    )
    action = models.CharField(_("what"), max_length=40, choices=Action.choices, db_index=True)
    target = models.CharField(_("on"), max_length=300, blank=True)
    program = models.CharField(
        _("program"),
        max_length=60,
        blank=True,
        db_index=True,
        help_text=_("The program's slug at the time; blank for actions outside one program."),
    )
    incomplete = models.BooleanField(
        _("incomplete"),
        default=False,
        help_text=_("An export that stopped before its end (the client went away, say)."),
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label or '-'} {self.action} {self.target}"
