"""Coordinator pages under ``/coordinate/`` (DESIGN §1, §7)."""

from django.urls import path

from . import dashboard_views as views

app_name = "coordinate"

COHORT = "<slug:program>/<slug:cohort>/"

urlpatterns = [
    path("", views.programs, name="programs"),
    path("<slug:program>/", views.program, name="program"),
    path("<slug:program>/cohorts/new/", views.cohort_create, name="cohort_create"),
    path(COHORT, views.cohort, name="cohort"),
    path(COHORT + "alerts/", views.alerts, name="alerts"),
    path(COHORT + "alerts/follow-up/", views.alert_follow_up, name="alert_follow_up"),
    path(COHORT + "psychometrics/", views.psychometrics, name="psychometrics"),
    path(COHORT + "manage/", views.manage, name="manage"),
    path(COHORT + "manage/waves/new/", views.wave_create, name="wave_create"),
    path(COHORT + "manage/waves/<int:number>/", views.wave_edit, name="wave_edit"),
    path(
        COHORT + "manage/waves/<int:number>/invite/",
        views.wave_send,
        {"what": "invitations"},
        name="wave_invite",
    ),
    path(
        COHORT + "manage/waves/<int:number>/remind/",
        views.wave_send,
        {"what": "reminders"},
        name="wave_remind",
    ),
    path(COHORT + "manage/dyads/new/", views.dyad_create, name="dyad_create"),
    path(COHORT + "manage/dyads/import/", views.dyad_import, name="dyad_import"),
    path(COHORT + "dyads/<str:code>/", views.dyad, name="dyad"),
    path(COHORT + "dyads/<str:code>/remind/", views.dyad_remind, name="dyad_remind"),
    path(COHORT + "dyads/<str:code>/end/", views.dyad_end, name="dyad_end"),
]
