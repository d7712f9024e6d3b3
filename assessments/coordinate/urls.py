"""Coordinator pages under ``/coordinate/`` (DESIGN §1, §7)."""

from django.urls import path

from . import manage_views as manage
from . import views

app_name = "coordinate"

COHORT = "<slug:program>/<slug:cohort>/"

urlpatterns = [
    path("", views.programs, name="programs"),
    path("<slug:program>/", views.program, name="program"),
    path("<slug:program>/cohorts/new/", manage.cohort_create, name="cohort_create"),
    path(COHORT, views.cohort, name="cohort"),
    path(COHORT + "alerts/", views.alerts, name="alerts"),
    path(COHORT + "alerts/follow-up/", manage.alert_follow_up, name="alert_follow_up"),
    path(COHORT + "psychometrics/", views.psychometrics, name="psychometrics"),
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
    path(COHORT + "manage/dyads/new/", manage.dyad_create, name="dyad_create"),
    path(COHORT + "manage/dyads/import/", manage.dyad_import, name="dyad_import"),
    path(COHORT + "dyads/<str:code>/", views.dyad, name="dyad"),
    path(COHORT + "dyads/<str:code>/remind/", manage.dyad_remind, name="dyad_remind"),
    path(COHORT + "dyads/<str:code>/end/", manage.dyad_end, name="dyad_end"),
]
