from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("", views.exports_page, name="index"),
    path("guide/", views.exports_guide, name="guide"),
]
