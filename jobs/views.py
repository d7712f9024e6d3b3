"""A job's page, its progress as JSON for the page's script, and its file.

Only the account that started a job sees it, and only while it still holds the
permission the job names; anyone else gets 404, as for a job that does not exist.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import Job
from .services import is_stale, job_file_chunks


def _own(request: HttpRequest, job_id) -> Job:
    job = Job.objects.filter(pk=job_id, owner=request.user).first()
    if job is None or (job.permission and not request.user.has_perm(job.permission)):
        raise Http404
    return job


def progress_data(job: Job) -> dict:
    return {
        "status": job.status,
        "finished": job.finished,
        "stopped": is_stale(job),
        "stage": job.stage,
        "done": job.done,
        "total": job.total,
    }


@login_required
@require_GET
def job_page(request: HttpRequest, job: str) -> HttpResponse:
    found = _own(request, job)
    context = {"job": found, "progress": progress_data(found)}
    return render(request, "jobs/job.html", context)


@login_required
@require_GET
def job_progress(request: HttpRequest, job: str) -> JsonResponse:
    return JsonResponse(progress_data(_own(request, job)))


@login_required
@require_GET
def job_file(request: HttpRequest, job: str) -> StreamingHttpResponse:
    found = _own(request, job)
    if not found.has_file:
        raise Http404
    response = StreamingHttpResponse(job_file_chunks(found), content_type=found.file_type)
    response["Content-Disposition"] = f'attachment; filename="{found.file_name}"'
    response["Content-Length"] = str(found.file_size)
    return response
