from django.contrib import admin

from .models import (
    Delivery,
    DeliveryBatch,
    DeliverySchedule,
    MessageTemplate,
    NotificationPreference,
)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("pk", "kind", "sequence", "status", "attempts", "to_email", "created_at",
                    "sent_at")  # fmt: skip
    list_filter = ("kind", "status")
    search_fields = ("to_email", "last_error")
    raw_id_fields = ("batch", "invitation", "recipient", "program", "dyad", "wave")
    readonly_fields = ("claim", "claimed_at", "sent_at", "updated_at")


@admin.register(DeliveryBatch)
class DeliveryBatchAdmin(admin.ModelAdmin):
    list_display = ("pk", "wave", "audience", "requested_by", "created_at", "planned_at", "total")
    list_filter = ("audience",)
    raw_id_fields = ("wave", "requested_by")


@admin.register(DeliverySchedule)
class DeliveryScheduleAdmin(admin.ModelAdmin):
    list_display = ("program", "wave", "invite_on_open", "reminder_days_after",
                    "reminder_days_before_close", "max_reminders", "time_zone")  # fmt: skip
    raw_id_fields = ("wave",)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "program", "alerts")
    list_filter = ("alerts",)
    raw_id_fields = ("user",)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """A program's wording; saving here runs the same placeholder checks as the page."""

    list_display = ("program", "kind", "subject", "updated_at", "updated_by")
    list_filter = ("kind",)
    raw_id_fields = ("updated_by",)
