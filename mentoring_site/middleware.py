"""Request checks that apply to every page."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from mentoring_site import request_id


class RequestIdMiddleware:
    """Every request gets an id: the proxy's ``X-Request-ID`` when it is a sane token,
    otherwise a fresh one. The id goes back on the response, onto every log line of the
    request and into error reports (``mentoring_site.request_id``), so a support question
    ("it failed at 10:02, id 3f2a…") leads to the lines of that request.

    The id stays bound until the response is closed, not only until the view returns:
    a streamed export keeps logging after that."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        request_finished.connect(_forget_request_id, dispatch_uid="mentoring_site.request_id")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bound_id = request_id.begin(request.headers.get(request_id.HEADER))
        response = self.get_response(request)
        response[request_id.HEADER] = bound_id
        return response


def _forget_request_id(sender: object, **kwargs: object) -> None:
    request_id.end()


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


class PrivatePagesMiddleware:
    """Pages are built for one person (answers, scores, names, research files), so no
    browser or shared cache may keep them: every response the app itself makes carries
    ``Cache-Control: private, no-store`` unless a view chose its own caching. Static
    files are served by WhiteNoise before this runs and keep their far-future headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
