"""Work started from a page runs on the worker (DESIGN §9): the page answers at once and
sends the person to the job's page, which shows the progress and then the outcome.

These tests use the database task queue and its real worker, as ``make run`` does, so
nothing happens until the worker runs.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import zipfile

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task

from assessments.background import recompute_start
from assessments.models import DyadWaveResult, ExportLog
from audit.models import AuditEvent
from jobs import services
from jobs.models import Job, JobFilePart
from jobs.services import JobError, job_running, job_start, jobs_forget
from relationships.models import Cohort, Program, User
from tests.delivery.conftest import run_worker
from tests.jobs.pages import job_of

pytestmark = pytest.mark.django_db

HEADER = "mentor_email,mentor_name,protege_email,protege_name,kind,supervisory,started_on\n"


@pytest.fixture(autouse=True)
def db_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


@pytest.fixture
def demo():
    call_command("seed_demo", "--dyads", "6", "--waves", "2", verbosity=0)
    return Cohort.objects.select_related("program").get(program__slug="demo")


def admin():
    return User.objects.get(email="admin@example.org")


def rows(count: int) -> str:
    return HEADER + "".join(
        f"m{i}@example.org,Mentor {i},p{i}@example.org,Protégé {i},,,\n" for i in range(count)
    )


# --- the dyad import -----------------------------------------------------------------------


def test_an_import_is_confirmed_at_once_and_done_by_the_worker(client, cast):
    client.force_login(cast.coordinator)
    url = f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/manage/dyads/import/"
    job = job_of(client.post(url, {"csv_text": rows(30)}))
    assert cast.cohort.dyads.count() == 2  # nothing yet: the worker has not run
    page = client.get(f"/jobs/{job.pk}/")
    assert "Waiting for the worker" in page.text and "<progress" in page.text
    assert job.payload == rows(30)

    run_worker()
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.payload) == ("done", 30, 30, "")
    assert cast.cohort.dyads.count() == 32
    page = client.get(f"/jobs/{job.pk}/").text
    assert "Imported 30 dyads (60 new participants)." in page
    assert f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/manage/" in page
    event = AuditEvent.objects.get(action=AuditEvent.Action.DYADS_IMPORTED)
    assert (event.actor, event.detail["dyads"]) == (cast.coordinator, 30)


def test_an_import_that_meets_a_problem_on_the_worker_writes_nothing_and_says_why(client, cast):
    """Between the check on the page and the worker's run, the same pair was added."""
    client.force_login(cast.coordinator)
    url = f"/coordinate/{cast.program.slug}/{cast.cohort.slug}/manage/dyads/import/"
    job = job_of(client.post(url, {"csv_text": rows(3)}))
    from relationships.services import dyads_import

    dyads_import(cohort=cast.cohort, text=rows(1))
    run_worker()
    job.refresh_from_db()
    assert job.status == "failed" and cast.cohort.dyads.count() == 3
    assert job.problems == ["line 2: this pair already has an active dyad here"]
    page = client.get(f"/jobs/{job.pk}/").text
    assert "Nothing was imported" in page and "line 2: this pair already has" in page


# --- the zip and the recompute -------------------------------------------------------------


def test_a_zip_is_built_by_the_worker_and_kept_for_its_owner(client, demo, monkeypatch):
    monkeypatch.setattr(services, "PART_BYTES", 4096)  # a file of several parts
    client.force_login(admin())
    asked = client.get("/exports/", {"cohort": demo.pk, "format": "zip"})
    assert asked.status_code == 200 and "press Download to start" in asked.text
    assert not Job.objects.exists()  # a link starts nothing

    job = job_of(client.post("/exports/", {"cohort": demo.pk, "format": "zip"}))
    assert client.get(f"/jobs/{job.pk}/file/").status_code == 404  # not built yet
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", 8, 8)
    assert JobFilePart.objects.filter(job=job).count() > 1
    reply = client.get(f"/jobs/{job.pk}/file/")
    data = b"".join(reply.streaming_content)
    assert len(data) == job.file_size == int(reply["Content-Length"])
    assert "README.txt" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert f'filename="demo-{demo.slug}-zip.zip"' in reply["Content-Disposition"]
    log = ExportLog.objects.get()
    assert (log.format, log.via, log.user) == ("zip", "page", admin())


def test_a_scored_file_waits_for_new_constants_to_be_applied_first(client, demo):
    Program.objects.filter(pk=demo.program_id).update(placement_overrides={"relational_rel": 5.2})
    client.force_login(admin())
    job = job_of(client.post("/exports/", {"cohort": demo.pk, "format": "dyad"}))
    assert job.kind == "cohort.recompute" and job.status == "queued"
    # asked again before the worker ran: the same job, not a second recompute
    assert job_of(client.post("/exports/", {"cohort": demo.pk, "format": "respondent"})) == job

    run_worker()
    job.refresh_from_db()
    assert job.status == "done" and job.done == job.total > 0
    version = Program.objects.get(pk=demo.program_id).constants.version_label
    assert set(DyadWaveResult.objects.values_list("rule_version", flat=True)) == {version}
    [(label, url)] = job.links
    assert label == "Download the dyad file"
    reply = client.get(url)  # now streamed at once
    assert reply["Content-Type"].startswith("text/csv")
    assert version in b"".join(reply.streaming_content).decode()


def test_changing_a_programs_constants_in_the_admin_rescores_each_cohort(client, demo):
    client.force_login(admin())
    program = demo.program
    page = client.get(f"/admin/relationships/program/{program.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        placement_overrides='{"relational_rel": 5.2}',
        languages=program.languages,
        **{f"{p}-TOTAL_FORMS": 0 for p in ("memberships", "cohorts")},
        **{f"{p}-INITIAL_FORMS": 0 for p in ("memberships", "cohorts")},
    )
    reply = client.post(f"/admin/relationships/program/{program.pk}/change/", data, follow=True)
    assert "is being scored again" in reply.text
    job = Job.objects.get(kind="cohort.recompute")
    assert f"/jobs/{job.pk}/" in reply.text
    run_worker()
    job.refresh_from_db()
    assert job.status == "done"
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.SCORES_RECOMPUTED, detail__via="page"
    ).exists()


# --- the job itself ------------------------------------------------------------------------


@task()
def failing(job_id: str, kind: str) -> None:
    with job_running(job_id) as run:
        if run is None:
            return
        run.progress(1, total=4, stage="first")
        if kind == "refused":
            raise JobError("It cannot be done.", problems=["line 3: no"])
        raise RuntimeError("a bug")


def test_a_job_that_fails_says_so_and_logs_the_cause(cast, caplog):
    refused = job_start(task=failing, owner=cast.admin, kind="t", title="t", args=["refused"])
    broken = job_start(task=failing, owner=cast.admin, kind="t", title="t", args=["bug"])
    with caplog.at_level(logging.ERROR, logger="jobs.services"):
        run_worker()
    refused.refresh_from_db()
    broken.refresh_from_db()
    assert (refused.status, refused.message, refused.problems) == (
        "failed", "It cannot be done.", ["line 3: no"]
    )  # fmt: skip
    assert broken.status == "failed" and "unexpected error" in broken.message
    assert "a bug" not in broken.message and "RuntimeError: a bug" in caplog.text


def test_a_task_delivered_twice_does_its_work_once(cast):
    job = Job.objects.create(owner=cast.admin, kind="t", title="t")
    with job_running(str(job.pk)) as run:
        with job_running(str(job.pk)) as again:
            assert again is None
        run.finish("once")
    job.refresh_from_db()
    assert (job.status, job.message) == ("done", "once")


def test_a_job_whose_worker_stopped_can_be_started_again(cast, demo):
    first = recompute_start(cohort=demo, owner=cast.admin)
    assert recompute_start(cohort=demo, owner=cast.admin) == first
    Job.objects.filter(pk=first.pk).update(
        updated_at=timezone.now() - services.STALE_AFTER - dt.timedelta(seconds=1)
    )
    second = recompute_start(cohort=demo, owner=cast.admin)
    first.refresh_from_db()
    assert second != first and first.status == "failed" and "stopped" in first.message


def test_the_page_says_when_the_worker_has_gone_quiet(client, cast):
    job = Job.objects.create(owner=cast.admin, kind="t", title="t", status="running")
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(cast.admin)
    assert "stopped reporting" in client.get(f"/jobs/{job.pk}/").text
    assert client.get(f"/jobs/{job.pk}/progress.json").json()["stopped"] is True


def test_finished_jobs_and_their_files_are_forgotten_after_a_day(cast):
    old = Job.objects.create(owner=cast.admin, kind="t", title="t", status="done")
    JobFilePart.objects.create(job=old, number=0, data=b"x")
    Job.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(days=2))
    recent = Job.objects.create(
        owner=cast.admin, kind="t", title="t", status="done", finished_at=timezone.now()
    )
    assert jobs_forget() == 1
    assert list(Job.objects.all()) == [recent] and not JobFilePart.objects.exists()


def test_progress_reads_the_same_as_the_page_for_its_owner_only(client, cast):
    job = Job.objects.create(
        owner=cast.coordinator, kind="t", title="t", status="running", done=3, total=9,
        stage="Scoring the answers",
    )  # fmt: skip
    client.force_login(cast.coordinator)
    assert client.get(f"/jobs/{job.pk}/progress.json").json() == {
        "status": "running", "finished": False, "stopped": False,
        "stage": "Scoring the answers", "done": 3, "total": 9,
    }  # fmt: skip
    page = client.get(f"/jobs/{job.pk}/").text
    assert 'max="9" value="3"' in page and "Scoring the answers" in page
    client.force_login(cast.admin)  # even a superuser sees only their own jobs
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
