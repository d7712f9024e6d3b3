from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.admin import ReadOnlyAdmin
from relationships.admin import ParticipantAdmin as BaseParticipantAdmin
from relationships.admin import ProgramAdmin as BaseProgramAdmin
from relationships.models import Participant, Program

from .background import recompute_start
from .models import (
    AlertFollowUp,
    Answer,
    Battery,
    DyadWaveResult,
    ExportLog,
    Instrument,
    Invitation,
    Item,
    Response,
    Subscale,
    Wave,
)
from .privacy import participant_erase
from .tokens import token_revoke


class LockedWhenAnsweredMixin:
    """Instruments with responses are read-only here: load a new version instead."""

    def _locked(self, obj) -> bool:
        if obj is None:
            return False
        instrument = obj if isinstance(obj, Instrument) else obj.owning_instrument()
        return instrument.has_responses()

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not self._locked(obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not self._locked(obj)


class BatteryInline(admin.StackedInline):
    model = Battery
    extra = 0
    show_change_link = True
    fields = ["code", "title", "scale_min", "scale_max", "scale_labels", "order"]


@admin.register(Instrument)
class InstrumentAdmin(LockedWhenAnsweredMixin, admin.ModelAdmin):
    list_display = ["code", "version", "title", "languages", "loaded_at"]
    list_filter = ["code"]
    search_fields = ["code", "title"]
    inlines = [BatteryInline]


class SubscaleInline(admin.TabularInline):
    model = Subscale
    extra = 0
    show_change_link = True


@admin.register(Battery)
class BatteryAdmin(LockedWhenAnsweredMixin, admin.ModelAdmin):
    list_display = ["code", "title", "instrument", "scale_min", "scale_max"]
    list_filter = ["instrument", "code"]
    search_fields = ["code", "title"]
    inlines = [SubscaleInline]


class ItemInline(admin.StackedInline):
    model = Item
    extra = 0
    fields = ["code", "text_mentor", "text_protege", "reverse_keyed", "allow_na", "order"]


@admin.register(Subscale)
class SubscaleAdmin(LockedWhenAnsweredMixin, admin.ModelAdmin):
    list_display = ["code", "title", "battery"]
    list_filter = ["battery__instrument", "battery__code"]
    search_fields = ["code", "title"]
    inlines = [ItemInline]


@admin.register(Item)
class ItemAdmin(LockedWhenAnsweredMixin, admin.ModelAdmin):
    list_display = ["code", "subscale", "reverse_keyed", "allow_na"]
    list_filter = ["subscale__battery__instrument", "subscale__battery__code", "reverse_keyed"]
    search_fields = ["code", "text_mentor", "text_protege"]
    list_select_related = ["subscale__battery__instrument"]


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = ["__str__", "cohort", "number", "opens_at", "closes_at", "instrument"]
    list_filter = ["cohort__program", "cohort", "instrument"]
    search_fields = ["label", "cohort__name", "cohort__program__name"]
    list_select_related = ["cohort__program", "instrument"]
    date_hierarchy = "opens_at"


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "participant",
        "dyad",
        "wave",
        "sent_at",
        "reminded_at",
        "used_at",
        "revoked_at",
    ]
    list_filter = ["wave__cohort__program", "wave", "sent_at", "used_at", "revoked_at"]
    search_fields = [
        "participant__name",
        "participant__research_code",
        "participant__user__email",
        "dyad__research_code",
    ]
    readonly_fields = ["created_at", "used_at", "last_used_at"]
    list_select_related = ["participant", "dyad", "wave"]
    raw_id_fields = ["participant", "dyad", "wave"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the sign-in links of the selected invitations"))
    def revoke(self, request, queryset) -> None:
        """Each revocation goes through the service, so each is in the audit trail."""
        open_ = queryset.filter(revoked_at__isnull=True)
        count = 0
        for invitation in open_.select_related("participant"):
            token_revoke(invitation=invitation, actor=request.user)
            count += 1
        self.message_user(request, _("%(count)d sign-in link(s) revoked.") % {"count": count})


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    raw_id_fields = ["item"]
    readonly_fields = ["answered_at"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["dyad", "role", "respondent", "wave", "status", "language", "submitted_at"]
    list_filter = ["status", "role", "language", "wave__cohort__program", "wave__cohort"]
    search_fields = [
        "dyad__research_code",
        "respondent__research_code",
        "respondent__name",
        "respondent__user__email",
    ]
    list_select_related = ["dyad", "respondent", "wave"]
    raw_id_fields = ["dyad", "respondent", "wave"]
    inlines = [AnswerInline]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ["response", "item", "value", "answered_at"]
    list_filter = ["item__subscale__battery__code"]
    search_fields = ["response__dyad__research_code", "response__respondent__research_code"]
    raw_id_fields = ["response", "item"]
    list_select_related = ["response__dyad", "response__wave", "item"]


@admin.register(DyadWaveResult)
class DyadWaveResultAdmin(admin.ModelAdmin):
    list_display = ["dyad", "wave", "state", "position", "transition", "flag_list", "rule_version"]
    list_filter = [
        "state",
        "transition",
        "rule_version",
        "wave__cohort__program",
        "borderline",
        "strain_reported",
        "reliable_decline",
        "norms_incongruent",
    ]
    search_fields = ["dyad__research_code", "dyad__mentor__name", "dyad__protege__name"]
    list_select_related = ["dyad__mentor", "dyad__protege", "wave"]
    raw_id_fields = ["dyad", "wave"]

    @admin.display(description=_("flags"))
    def flag_list(self, result: DyadWaveResult) -> str:
        return ", ".join(result.flags)


@admin.register(AlertFollowUp)
class AlertFollowUpAdmin(admin.ModelAdmin):
    list_display = ["dyad", "wave", "reason", "created_by", "created_at"]
    list_filter = ["reason", "wave__cohort__program", "wave__cohort"]
    search_fields = ["dyad__research_code", "note", "created_by__email"]
    list_select_related = ["dyad", "wave", "created_by"]
    raw_id_fields = ["dyad", "wave", "created_by"]
    readonly_fields = ["created_at"]


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is written by the exports themselves."""

    list_display = ["created_at", "user", "cohort_path", "format", "rows", "via"]
    list_filter = ["format", "via"]
    search_fields = ["cohort_path", "user__email"]
    date_hierarchy = "created_at"


# Erasing a participant touches answers and results, so the action lives with them; the
# participant admin of ``relationships`` is extended here rather than importing upwards.
admin.site.unregister(Participant)


@admin.register(Participant)
class ParticipantAdmin(BaseParticipantAdmin):
    actions = ["erase"]

    @admin.action(description=_("Erase selected participants"), permissions=["delete"])
    def erase(self, request, queryset):
        """Ask once, then erase each (``privacy.participant_erase``)."""
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": _("Erase participants"),
                "participants": queryset.prefetch_related(
                    "dyads_as_mentor__cohort__program", "dyads_as_protege__cohort__program"
                ),
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/relationships/participant/erase.html", context)
        for participant in queryset:
            done = participant_erase(participant=participant, actor=request.user)
            if done.already_erased:
                message = _("%(code)s was already erased.")
            else:
                message = _(
                    "%(code)s erased: %(answers)d answers removed, %(results)d results "
                    "recomputed, %(links)d sign-in links revoked."
                )
            self.message_user(
                request,
                message
                % {"code": done.research_code, "answers": done.answers_removed,
                   "results": done.results_recomputed, "links": done.links_revoked},
            )  # fmt: skip
        return None


# New scoring constants mean new results: the program admin starts the recompute of each
# of the program's cohorts on the worker, and links to each one's progress.
admin.site.unregister(Program)


@admin.register(Program)
class ProgramAdmin(BaseProgramAdmin):
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change or "placement_overrides" not in form.changed_data:
            return
        for cohort in obj.cohorts.order_by("name"):
            job = recompute_start(cohort=cohort, owner=request.user, back_url=request.path)
            url = reverse("jobs:job", args=[job.pk])
            self.message_user(
                request,
                format_html(
                    _("The scoring constants changed: {cohort} is being scored again. "
                      '<a href="{url}">Follow its progress</a>.'),
                    cohort=cohort.name,
                    url=url,
                ),
            )  # fmt: skip
