from django.contrib import admin

from .models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records kept as written: admins read them; nobody adds, edits or deletes them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail, newest first, with the program acted in and cut-off exports."""

    list_display = ["at", "actor_label", "action", "program", "target", "incomplete", "ip_address"]
    list_filter = ["action", "program", "incomplete", "at"]
    search_fields = ["actor_label", "target", "program"]
    date_hierarchy = "at"
    readonly_fields = [
        "at",
        "actor",
        "actor_label",
        "action",
        "program",
        "target",
        "incomplete",
        "detail",
        "ip_address",
    ]
    list_select_related = ["actor"]


def delete_selected_audited(modeladmin, request, queryset):
    """The admin's "delete selected" action, recorded object by object.

    The admin logs a deletion of several objects with one bulk insert, which sends no
    signal; a single deletion reaches the trail through ``receivers.admin_change``.
    """
    from django.contrib.admin.actions import delete_selected

    from .models import AuditEvent
    from .services import audit_record

    confirmed = bool(request.POST.get("post"))
    doomed = [(obj.pk, str(obj)) for obj in queryset] if confirmed else []
    response = delete_selected(modeladmin, request, queryset)
    if response is None and len(doomed) > 1:
        label = f"{modeladmin.opts.app_label}.{modeladmin.opts.model_name}"
        for pk, name in doomed:
            audit_record(
                action=AuditEvent.Action.ADMIN_DELETION,
                actor=request.user,
                target=f"{label} #{pk}: {name}",
                detail={"change": "deleted with the delete-selected action"},
                request=request,
            )
    return response


delete_selected_audited.allowed_permissions = ("delete",)
delete_selected_audited.short_description = "Delete selected %(verbose_name_plural)s"
admin.site.add_action(delete_selected_audited, "delete_selected")
