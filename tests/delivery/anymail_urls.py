"""The site's addresses as a deployment on an API mail provider serves them
(``EMAIL_BACKEND`` one of django-anymail's: ``mentoring_site.urls`` then adds these)."""

from django.urls import include, path

from mentoring_site.urls import urlpatterns as site

urlpatterns = [*site, path("anymail/", include("anymail.urls"))]
