from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .forms import ProgramAdminForm
from .models import Cohort, CoordinatorMembership, Dyad, Participant, Program, User


class DeletionFilter(admin.SimpleListFilter):
    title = _("deletion")
    parameter_name = "deletion"

    def lookups(self, request, model_admin):
        return [("asked", _("asked, not yet erased")), ("erased", _("erased"))]

    def queryset(self, request, queryset):
        if self.value() == "asked":
            return queryset.filter(deletion_requested_at__isnull=False, erased_at__isnull=True)
        if self.value() == "erased":
            return queryset.filter(erased_at__isnull=False)
        return queryset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class CoordinatorMembershipInline(admin.TabularInline):
    model = CoordinatorMembership
    extra = 0
    autocomplete_fields = ["user"]


class CohortInline(admin.TabularInline):
    model = Cohort
    extra = 0
    prepopulated_fields = {"slug": ("name",)}
    show_change_link = True


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    form = ProgramAdminForm
    list_display = ["name", "slug", "default_language", "share_partner_scores", "created_at"]
    list_filter = ["share_partner_scores", "keep_research_data_on_erasure"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [CoordinatorMembershipInline, CohortInline]


@admin.register(CoordinatorMembership)
class CoordinatorMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "program", "added_at"]
    list_filter = ["program"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "program__name"]
    autocomplete_fields = ["user", "program"]


class DyadInline(admin.TabularInline):
    model = Dyad
    extra = 0
    fields = [
        "research_code", "mentor", "mentor_name", "protege", "protege_name", "kind",
        "supervisory", "is_active",
    ]  # fmt: skip
    readonly_fields = ["research_code"]
    autocomplete_fields = ["mentor", "protege"]
    show_change_link = True


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "slug", "started_on"]
    list_filter = ["program"]
    search_fields = ["name", "slug", "program__name"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [DyadInline]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = [
        "research_code", "name", "email", "gender", "deletion_requested_at", "erased_at",
    ]  # fmt: skip
    list_filter = [DeletionFilter, "gender"]
    search_fields = ["research_code", "name", "user__email"]
    autocomplete_fields = ["user"]
    readonly_fields = ["research_code", "created_at", "deletion_requested_at", "erased_at"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "language":  # a choice among the interface's languages
            choices = [("", _("not chosen")), *settings.LANGUAGES]
            return forms.ChoiceField(
                label=db_field.verbose_name.capitalize(),
                choices=choices,
                required=False,
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, participant: Participant) -> str:
        return participant.email

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Dyad)
class DyadAdmin(admin.ModelAdmin):
    list_display = [
        "research_code", "mentor", "mentor_name", "protege", "protege_name", "cohort", "kind",
        "is_active",
    ]  # fmt: skip
    list_filter = ["cohort__program", "cohort", "kind", "supervisory", "is_active"]
    search_fields = [
        "research_code",
        "mentor_name",
        "mentor__name",
        "mentor__research_code",
        "mentor__user__email",
        "protege_name",
        "protege__name",
        "protege__research_code",
        "protege__user__email",
    ]
    autocomplete_fields = ["mentor", "protege"]
    list_select_related = ["mentor", "protege", "cohort__program"]
    readonly_fields = ["research_code"]
