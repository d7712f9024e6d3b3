"""Getting back in without a coordinator: sign-in links by email and passwords.

- *Email me a sign-in link*: anyone may ask; the page reads the same whether or not the
  address belongs to an account. A link goes only to an active participant account that
  is not staff or superuser (those sign in with a password and its lockout). The link is
  short-lived (``SIGNIN_LINK_MINUTES``) and works once: it is signed over the account's
  last sign-in, which the sign-in changes.
- A session opened by such a link (the person proved they read that mailbox) may set a
  password without the old one; so may an account that never had one. Otherwise the
  old password is asked for.
- Requests that send email or check a secret are throttled per address and per client
  (django-ratelimit); ``rate_limited`` is the page a throttled request gets.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.auth.views import PasswordResetView
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from .link_language import person_page_language
from .scope import SIGNED_IN_BY

EMAIL_LINK = "email-link"

# Per client address and per email address; generous for people, tight for scripts.
PER_CLIENT = "20/h"
PER_ADDRESS = "5/h"


def address_key(group: str, request: HttpRequest) -> str:
    """The email address a form was posted for, as accounts store it (lower case)."""
    return str(request.POST.get("email", "")).strip().lower()


def throttled(view):
    """Limit POSTs per client and per address; GETs are never limited."""
    view = ratelimit(key=address_key, rate=PER_ADDRESS, method="POST", block=True)(view)
    return ratelimit(key="ip", rate=PER_CLIENT, method="POST", block=True)(view)


def rate_limited(request: HttpRequest, exception=None) -> HttpResponse:
    """What a throttled request gets (429): what happened and what to do."""
    return render(request, "registration/rate_limited.html", status=429)


class SignInLinkTokens(PasswordResetTokenGenerator):
    """One-time sign-in tokens: bound to the account's last sign-in and its password."""

    key_salt = "continuum.signin-link"

    def _make_hash_value(self, user, timestamp) -> str:
        login_at = "" if user.last_login is None else user.last_login.replace(microsecond=0)
        return f"{user.pk}{user.password}{login_at}{timestamp}{user.email}{user.is_active}"

    def check_token(self, user, token) -> bool:
        try:
            issued = base36_to_int(str(token).split("-")[0])
        except ValueError:
            return False
        age = self._num_seconds(self._now()) - issued
        if age > settings.SIGNIN_LINK_MINUTES * 60:
            return False
        return super().check_token(user, token)


signin_tokens = SignInLinkTokens()


def may_receive_links(user) -> bool:
    """Only active participant accounts sign in by emailed link."""
    return (
        user.is_active
        and not user.is_staff
        and not user.is_superuser
        and hasattr(user, "participant")
    )


class SignInLinkForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Your email address"), max_length=254)


def _signin_link_mail(request: HttpRequest, user) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("signin_link_use", args=[uid, signin_tokens.make_token(user)])
    context = {
        "name": user.get_full_name() or user.email,
        "link": settings.SITE_URL.rstrip("/") + path,
        "minutes": settings.SIGNIN_LINK_MINUTES,
    }
    message = EmailMultiAlternatives(
        subject=_("Your Continuum sign-in link"),
        body=render_to_string("emails/signin_link.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("emails/signin_link.html", context), "text/html")
    message.send()


@throttled
@require_http_methods(["GET", "POST"])
def signin_link(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link; the answer is the same whether or not the address exists."""
    form = SignInLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        user = get_user_model().objects.filter(email=email).first()
        if user is not None and may_receive_links(user):
            # in the participant's own language when they chose one, else the page's
            with translation.override(user.participant.language or translation.get_language()):
                _signin_link_mail(request, user)
        return redirect("signin_link_sent")
    return render(
        request,
        "registration/signin_link.html",
        {"form": form, "minutes": settings.SIGNIN_LINK_MINUTES},
    )


def signin_link_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "registration/signin_link_sent.html", {"minutes": settings.SIGNIN_LINK_MINUTES}
    )


def _user_of(uidb64: str):
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        return get_user_model().objects.filter(pk=int(pk)).first()
    except (TypeError, ValueError, OverflowError):
        return None


@ratelimit(key="ip", rate=PER_CLIENT, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def signin_link_use(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """GET shows a button (mail scanners change nothing), in a language the person's
    programs offer (``link_language``); POST signs in, once."""
    user = _user_of(uidb64)
    if user is None or not may_receive_links(user) or not signin_tokens.check_token(user, token):
        reason = _("This sign-in link has expired or was already used. You can ask for a new one.")
        return render(
            request,
            "registration/signin_link_refused.html",
            {"reason": reason},
            status=410,
        )
    if request.method == "GET":
        context = {"person": user, **person_page_language(request, user)}
        return render(request, "registration/signin_link_use.html", context)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SIGNED_IN_BY] = EMAIL_LINK
    return redirect("landing")


def _may_skip_old_password(request: HttpRequest) -> bool:
    return not request.user.has_usable_password() or request.session.get(SIGNED_IN_BY) == EMAIL_LINK


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Set a password; the old one is asked only of sessions that signed in with it."""
    without_old = _may_skip_old_password(request)
    form_class = SetPasswordForm if without_old else PasswordChangeForm
    form = form_class(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        messages.success(request, _("Your password is saved. Next time, sign in with it."))
        return redirect("landing")
    return render(
        request,
        "registration/password_change_form.html",
        {"form": form, "without_old": without_old},
    )


class AnyParticipantResetForm(PasswordResetForm):
    """Django's reset form, also for participants who never had a usable password."""

    def get_users(self, email):
        users = get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
        return (u for u in users if u.has_usable_password() or may_receive_links(u))


@method_decorator(throttled, name="dispatch")
class ThrottledPasswordResetView(PasswordResetView):
    form_class = AnyParticipantResetForm
