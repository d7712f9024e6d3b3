"""What the error mail to ``ADMINS`` may show of a failed request.

Django's report lists the posted fields with their values; a survey page posts answers,
which only their author may read (DESIGN §7). Outside DEBUG the report names the
fields and hides every value. Settings, cookies and headers keep Django's own
cleansing (the session cookie and anything named like a key, token or password).
"""

from __future__ import annotations

from django.http import HttpRequest, QueryDict
from django.views.debug import SafeExceptionReporterFilter


class PrivateReporterFilter(SafeExceptionReporterFilter):
    """``DEFAULT_EXCEPTION_REPORTER_FILTER``: posted values never reach an error report."""

    def get_post_parameters(self, request: HttpRequest | None) -> QueryDict | dict:
        if request is None:
            return {}
        if not self.is_active(request):
            return super().get_post_parameters(request)
        hidden = request.POST.copy()
        for key in hidden:
            hidden.setlist(key, [self.cleansed_substitute])
        return hidden
