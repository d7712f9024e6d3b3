from django.contrib import admin

from .models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """What ran in the background, for an administrator looking into a failure; the
    files themselves are only for the account that asked for them."""

    list_display = ["title", "kind", "owner", "status", "done", "total", "created_at"]
    list_filter = ["status", "kind"]
    fields = [
        "title", "kind", "owner", "status", "stage", "done", "total", "message", "problems",
        "file_name", "file_size", "created_at", "started_at", "updated_at", "finished_at",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
