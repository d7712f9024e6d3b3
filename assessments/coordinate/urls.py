"""Coordinator pages under ``/coordinate/`` (DESIGN §1, §7)."""

from django.urls import path

from . import delivery_views as email
from . import language_views, views
from . import manage_views as manage
from . import report_views as report

app_name = "coordinate"

COHORT = "<slug:program>/<slug:cohort>/"
EMAIL = "<slug:program>/email/"

urlpatterns = [
    path("", views.programs, name="programs"),
    path("<slug:program>/", views.program, name="program"),
    path("<slug:program>/cohorts/new/", manage.cohort_create, name="cohort_create"),
    path(
        "<slug:program>/languages/",
        language_views.program_languages,
        name="program_languages",
    ),
    path(EMAIL + "messages/", email.message_templates, name="message_templates"),
    path(EMAIL + "messages/<str:kind>/", email.message_template, name="message_template"),
    path(
        EMAIL + "messages/<str:kind>/test/",
        email.message_template_test,
        name="message_template_test",
    ),
    path(EMAIL + "schedule/", email.delivery_schedule, name="delivery_schedule"),
    path(EMAIL + "notices/", email.notification_preference, name="notification_preference"),
    path(EMAIL + "failed/", email.failed_deliveries, name="failed_deliveries"),
    path(EMAIL + "failed/<int:delivery>/retry/", email.delivery_retry, name="delivery_retry"),
    path(COHORT, views.cohort, name="cohort"),
    path(COHORT + "alerts/", views.alerts, name="alerts"),
    path(COHORT + "alerts/follow-up/", manage.alert_follow_up, name="alert_follow_up"),
    path(COHORT + "psychometrics/", views.psychometrics, name="psychometrics"),
    path(COHORT + "dyads.csv", report.dyad_list, name="dyad_list"),
    path(COHORT + "report/", report.report, name="report"),
    path(COHORT + "manage/", manage.manage, name="manage"),
    path(COHORT + "manage/waves/new/", manage.wave_create, name="wave_create"),
    path(COHORT + "manage/waves/<int:number>/", manage.wave_edit, name="wave_edit"),
    path(
        COHORT + "manage/waves/<int:number>/invite/",
        manage.wave_send,
        {"what": "invitations"},
        name="wave_invite",
    ),
    path(
        COHORT + "manage/waves/<int:number>/remind/",
        manage.wave_send,
        {"what": "reminders"},
        name="wave_remind",
    ),
    path(
        COHORT + "manage/waves/<int:number>/send/",
        email.wave_send_confirm,
        name="wave_send_confirm",
    ),
    path(COHORT + "manage/sends/<int:batch>/", email.send_progress, name="send_progress"),
    path(
        COHORT + "manage/sends/<int:batch>/progress.json",
        email.send_progress_json,
        name="send_progress_json",
    ),
    path(COHORT + "manage/dyads/new/", manage.dyad_create, name="dyad_create"),
    path(COHORT + "manage/dyads/import/", manage.dyad_import, name="dyad_import"),
    path(COHORT + "dyads/<str:code>/", views.dyad, name="dyad"),
    path(COHORT + "dyads/<str:code>/remind/", manage.dyad_remind, name="dyad_remind"),
    path(COHORT + "dyads/<str:code>/end/", manage.dyad_end, name="dyad_end"),
]
