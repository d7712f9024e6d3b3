"""Following a job from the page that starts it to its outcome, as a browser would."""

from __future__ import annotations

from jobs.models import Job


def job_of(reply) -> Job:
    """The job a page sent the browser to."""
    assert reply.status_code == 302 and reply.url.startswith("/jobs/"), reply
    return Job.objects.get(pk=reply.url.split("/")[2])


def archive_download(client, cohort, format: str):
    """Ask the exports page for a zip; the reply of the job's file (tests run tasks in
    the caller, so the job is done when the page answers)."""
    job = job_of(client.post("/exports/", {"cohort": cohort.pk, "format": format}))
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, (job.status, job.message)
    return client.get(f"/jobs/{job.pk}/file/")
