from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django_ratelimit.decorators import ratelimit

from assessments.survey import accounts

from . import languages, views

# Checking a reset token is checking a secret: throttled per client like the others.
reset_confirm = ratelimit(key="ip", rate=accounts.PER_CLIENT, method="POST", block=True)(
    auth_views.PasswordResetConfirmView.as_view()
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", languages.set_language, name="set_language"),
    path("start/", views.landing, name="landing"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/link/", accounts.signin_link, name="signin_link"),
    path("accounts/link/sent/", accounts.signin_link_sent, name="signin_link_sent"),
    path(
        "accounts/link/<uidb64>/<token>/",
        accounts.signin_link_use,
        name="signin_link_use",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", accounts.password_change, name="password_change"),
    path(
        "accounts/password/reset/",
        accounts.ThrottledPasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("exports/", include("assessments.research.urls")),
    path("", include("assessments.survey.urls")),
    path("coordinate/", include("assessments.coordinate.urls")),
    path("jobs/", include("jobs.urls")),
]
if settings.ANYMAIL_WEBHOOKS:  # an API mail provider's tracking webhook (docs/delivery.md)
    urlpatterns.append(path("anymail/", include("anymail.urls")))

admin.site.site_header = "Continuum administration"
admin.site.site_title = "Continuum"
