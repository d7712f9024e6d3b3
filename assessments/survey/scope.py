"""A session opened by an invitation link reaches that one survey and nothing else.

An invitation link can be forwarded, so it is worth no more than the survey it was sent
for: the person's own draft (and, once submitted, results) of one dyad and one wave. A
session signed in by such a link carries that scope; ``LinkScopeMiddleware`` lets it
open the survey and results pages of that dyad and wave, other invitation links, the
sign-in pages and sign-out, and sends everything else (other surveys, "my data",
setting a password) to the page that emails a sign-in link to the account's own
address, which opens the whole account. Any full sign-in (password, emailed sign-in
link) lifts the scope.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

KEY = "continuum_link_scope"
SIGNED_IN_BY = "continuum_signed_in_by"

# Pages of the scoped survey (their ``code`` and ``wave`` must match the scope).
SURVEY_PAGES = {
    "assessments:survey",
    "assessments:survey_page",
    "assessments:survey_autosave",
    "assessments:survey_review",
    "assessments:results",
}
# Pages any scoped session may open.
OPEN_PAGES = {
    "home",
    "healthz",
    "login",
    "logout",
    "signin_link",
    "signin_link_sent",
    "signin_link_use",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "assessments:magic_link",
    "set_language",
}


def of(request) -> dict | None:
    """The scope of this session (``{"code": …, "wave": …}``) or None for a full one."""
    return request.session.get(KEY)


def limit(request, invitation) -> None:
    """Limit the (just signed-in) session to the invitation's survey."""
    request.session[KEY] = {
        "code": invitation.dyad.research_code,
        "wave": invitation.wave.number,
    }


@receiver(user_logged_in)
def _full_sign_in_lifts_the_scope(sender, request, user, **kwargs) -> None:
    # The invitation link sets the scope again right after its own login(), the emailed
    # sign-in link its mark; a password sign-in starts with neither.
    if request is not None and hasattr(request, "session"):
        request.session.pop(KEY, None)
        request.session.pop(SIGNED_IN_BY, None)


def allows(scope: dict, url_name: str, kwargs: dict) -> bool:
    if url_name in OPEN_PAGES:
        return True
    if url_name in SURVEY_PAGES:
        return kwargs.get("code") == scope["code"] and kwargs.get("wave") == scope["wave"]
    return False


class LinkScopeMiddleware:
    """Keep a link-opened session inside its survey (after authentication)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        scope = of(request) if request.user.is_authenticated else None
        if scope is None or request.resolver_match is None:
            return None
        if allows(scope, request.resolver_match.view_name, view_kwargs):
            return None
        own = reverse("assessments:survey", args=[scope["code"], scope["wave"]])
        if request.resolver_match.view_name == "assessments:home":
            return redirect(own)
        messages.info(
            request,
            _(
                "Your invitation link opens this survey only. To see all your surveys or "
                "set a password, we can email you a sign-in link."
            ),
        )
        return redirect(reverse("signin_link") + "?scoped=1")
