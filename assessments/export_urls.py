from django.urls import path

from . import export_views

app_name = "exports"

urlpatterns = [path("", export_views.exports_page, name="index")]
