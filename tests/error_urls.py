"""The project's URLs plus one view that fails, to see the 500 page (tests only)."""

from django.urls import path

from mentoring_site.urls import urlpatterns as project


def broken(request):
    raise RuntimeError("secret detail that must not reach the visitor: /srv/app/settings.py")


urlpatterns = [*project, path("broken/", broken)]
