"""Request checks that apply to every page."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse


class RejectNulBytesMiddleware:
    """A NUL byte in the path or query string is never legitimate, and PostgreSQL refuses
    it in any query: answer 400 (the friendly page) before a view turns it into a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            "\x00" in request.path
            or "\x00" in request.META.get("QUERY_STRING", "")
            or any(
                "\x00" in key or any("\x00" in value for value in values)
                for key, values in request.GET.lists()
            )
        ):
            raise SuspiciousOperation("NUL byte in the request address")
        return self.get_response(request)
