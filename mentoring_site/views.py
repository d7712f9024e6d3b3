from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from delivery.heartbeat import HEARTBEAT_STALE_SECONDS, queue_health


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
    """The database, the queue's backlog and the age of the newest worker heartbeat.

    503 only when the database does not answer (this server cannot serve). A stale
    worker while work waits, or an unreadable task queue, is ``degraded`` with 200:
    pages still work, so a load balancer keeps the server, and monitoring alerts on the
    status (docs/deployment.md, "Health").
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        health = queue_health(now=timezone.now())
    except DatabaseError as error:
        return JsonResponse({"status": "error", "database": type(error).__name__}, status=503)
    return JsonResponse(
        {
            "status": health.status,
            "database": "ok",
            "queue": {
                "engine": health.engine,
                "deliveries_due": health.deliveries_due,
                "tasks_queued": health.tasks_queued,
            },
            "worker": {
                "last_heartbeat_seconds": health.heartbeat_age,
                "alive": health.workers_alive,
                "stale_after_seconds": HEARTBEAT_STALE_SECONDS,
            },
        }
    )
