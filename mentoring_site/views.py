from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@login_required
@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    """Where each person works: admins in the admin (or exports), coordinators on their
    programs, participants on their surveys (DESIGN §7)."""
    user = request.user
    if user.is_superuser:
        return redirect("admin:index")
    if user.has_perm("assessments.export_cohort") and not hasattr(user, "participant"):
        return redirect("exports:index")
    if user.coordinator_memberships.exists() or user.has_perm(
        "assessments.coordinate_all_programs"
    ):
        return redirect("coordinate:programs")
    if user.is_staff and not hasattr(user, "participant"):
        return redirect("admin:index")
    return redirect("assessments:home")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness with a database round trip; 503 when the database does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse({"status": "error", "database": type(error).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
