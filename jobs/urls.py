from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("<uuid:job>/", views.job_page, name="job"),
    path("<uuid:job>/progress.json", views.job_progress, name="progress"),
    path("<uuid:job>/file/", views.job_file, name="file"),
]
