from django.urls import path

from . import links, privacy, views

app_name = "assessments"

urlpatterns = [
    path("me/", views.home, name="home"),
    path("me/survey/<str:code>/<int:wave>/", views.survey_resume, name="survey"),
    path("me/survey/<str:code>/<int:wave>/page/<int:page>/", views.survey_page, name="survey_page"),
    path(
        "me/survey/<str:code>/<int:wave>/autosave/", views.survey_autosave, name="survey_autosave"
    ),
    path("me/survey/<str:code>/<int:wave>/submit/", views.survey_review, name="survey_review"),
    path("me/results/<str:code>/<int:wave>/", views.results, name="results"),
    path("invite/<str:token>/", links.magic_link, name="magic_link"),
    path("me/data/", privacy.my_data, name="my_data"),
    path(
        "me/data/download.json",
        privacy.my_data_download,
        {"format": "json"},
        name="my_data_json",
    ),
    path(
        "me/data/download.csv",
        privacy.my_data_download,
        {"format": "csv"},
        name="my_data_csv",
    ),
]
