"""Starting a job, and the worker's side of it: progress, outcome, file.

A page calls ``job_start`` with a task of the task framework; the task takes the job's
id first and does its work inside ``job_running``, reporting through the ``JobRun`` it
is given. The page the person is sent to (``jobs:job``) shows the progress as it comes.

    @task()
    def archive(job_id: str, cohort_id: int) -> None:
        with job_running(job_id) as run:
            if run is None:
                return  # done already, or forgotten
            run.progress(0, total=3, stage=_("Scoring"))
            ...
            run.attach("cohort.zip", "application/zip", handle)
            run.finish(_("The file is ready."))
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import PART_BYTES, Job, JobFilePart

logger = logging.getLogger(__name__)

# Progress is written at most this often (and at every change of stage).
PROGRESS_SECONDS = 0.5
# An unfinished job whose worker has not reported for this long has stopped (a killed
# worker): it is shown as stopped, and the same work may be started again.
STALE_AFTER = dt.timedelta(minutes=15)
# Finished jobs and their files are forgotten after this long.
FORGET_AFTER = dt.timedelta(days=1)

# Backends whose queue is this database (or that run the task in the caller): a task
# enqueued inside a transaction is seen only with it, so it may be enqueued at once.
# Any other (Redis) could reach a worker before the rows it reads commit.
DATABASE_SHARED = ("DatabaseBackend", "ImmediateBackend")


class JobError(Exception):
    """The work cannot be done as asked: ``message`` (and ``problems``, one line each)
    are shown to the person who started it."""

    def __init__(self, message: str, problems: Iterable[str] = ()):
        super().__init__(message)
        self.message, self.problems = message, list(problems)


def after_commit(enqueue: Callable[[], object]) -> None:
    """Call ``enqueue`` once the rows the task reads are visible to a worker."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

    shares_database = type(task_backends[DEFAULT_TASK_BACKEND_ALIAS]).__name__ in DATABASE_SHARED
    if connection.in_atomic_block and not shares_database:
        transaction.on_commit(enqueue, robust=True)
    else:
        enqueue()


def job_start(
    *,
    task,
    owner,
    kind: str,
    title: str,
    args: Iterable = (),
    key: str = "",
    permission: str = "",
    back_url: str = "",
    payload: str = "",
) -> Job:
    """Record a job and enqueue ``task(job_id, *args)``; return the job.

    ``key`` names the work (``"recompute:12"``): while a job with the same key is
    unfinished, that job is returned and nothing new is enqueued, so double clicks and
    two people asking at once start the work once. A job whose worker stopped reporting
    ``STALE_AFTER`` ago is marked failed first, so the work can be asked for again.
    """
    if key:
        _stale_fail(key)
        running = Job.objects.filter(key=key, status__in=Job.UNFINISHED).first()
        if running is not None:
            return running
    fields = {
        "kind": kind, "title": title[:200], "owner": owner, "key": key,
        "permission": permission, "back_url": back_url, "payload": payload,
        "language": translation.get_language() or "",
    }  # fmt: skip
    try:
        with transaction.atomic():
            job = Job.objects.create(**fields)
    except IntegrityError:  # the same work asked for at the same moment
        return Job.objects.get(key=key, status__in=Job.UNFINISHED)
    arguments = [str(job.pk), *args]
    after_commit(lambda: task.enqueue(*arguments))
    return Job.objects.get(pk=job.pk)  # a task run in the caller has updated it


def _stale_fail(key: str) -> None:
    Job.objects.filter(
        key=key, status__in=Job.UNFINISHED, updated_at__lt=timezone.now() - STALE_AFTER
    ).update(
        status=Job.Status.FAILED,
        message=_("The worker stopped before the end. Start it again."),
        finished_at=timezone.now(),
        payload="",
    )


def is_stale(job: Job, *, now: dt.datetime | None = None) -> bool:
    """An unfinished job nobody has reported on for ``STALE_AFTER``."""
    return not job.finished and (now or timezone.now()) - job.updated_at > STALE_AFTER


class JobRun:
    """A running job as its task sees it."""

    def __init__(self, job: Job):
        self.job = job
        self._written = 0.0

    @property
    def payload(self) -> str:
        return self.job.payload

    def progress(self, done: int, *, total: int | None = None, stage: str | None = None) -> None:
        """Say how far the work is; written at most every ``PROGRESS_SECONDS``, and at
        once when the stage or the total changes or the work reaches its total."""
        changed = (stage is not None and stage != self.job.stage) or (
            total is not None and total != self.job.total
        )
        self.job.done = done
        if total is not None:
            self.job.total = total
        if stage is not None:
            self.job.stage = stage[:200]
        now = time.monotonic()
        if changed or done == self.job.total or now - self._written >= PROGRESS_SECONDS:
            self._save("done", "total", "stage")
            self._written = now

    def advance(self, by: int = 1, *, stage: str | None = None) -> None:
        self.progress(self.job.done + by, stage=stage)

    def attach(self, name: str, content_type: str, source: IO[bytes]) -> int:
        """Keep the bytes of ``source`` (from its start) as the job's file; its size."""
        source.seek(0)
        size = 0
        self.job.parts.all().delete()
        for number, data in enumerate(iter(lambda: source.read(PART_BYTES), b"")):
            JobFilePart.objects.create(job=self.job, number=number, data=data)
            size += len(data)
        self.job.file_name, self.job.file_type, self.job.file_size = name, content_type, size
        self._save("file_name", "file_type", "file_size")
        return size

    def finish(self, message: str, *, links: Iterable[tuple[str, str]] = ()) -> None:
        """The work is done: ``message`` says what came of it, ``links`` where to go next."""
        self._end(Job.Status.DONE, message, links=[[str(a), str(b)] for a, b in links])

    def fail(self, message: str, *, problems: Iterable[str] = ()) -> None:
        self._end(Job.Status.FAILED, message, problems=[str(p) for p in problems])

    def _end(self, status: str, message: str, **fields) -> None:
        for name, value in fields.items():
            setattr(self.job, name, value)
        self.job.status, self.job.message = status, message
        self.job.finished_at, self.job.payload = timezone.now(), ""
        if status == Job.Status.DONE and self.job.total:
            self.job.done = self.job.total
        self._save("status", "message", "finished_at", "payload", "done", *fields)

    def _save(self, *fields: str) -> None:
        self.job.save(update_fields=[*fields, "updated_at"])


@contextmanager
def job_running(job_id: str) -> Iterator[JobRun | None]:
    """Claim a waiting job and run its work in the language it was asked in.

    Yields None when the job is not waiting (already picked up by another worker,
    finished, or forgotten): a task delivered twice does its work once. A ``JobError``
    fails the job with its message; any other error fails it with a general message
    (the details go to the log) and is not raised further, so the task engine records
    the task as done and the person reads what happened on the job's page.
    """
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, updated_at=now
    )
    if not claimed:
        yield None
        return
    run = JobRun(Job.objects.get(pk=job_id))
    with translation.override(run.job.language or None):
        try:
            yield run
        except JobError as error:
            run.fail(error.message, problems=error.problems)
        except Exception:
            logger.exception("job %s (%s) failed", job_id, run.job.kind)
            run.fail(
                _(
                    "The work stopped on an unexpected error. Try again; if it happens "
                    "again, an administrator can read the details in the server log."
                )
            )
        else:
            if not run.job.finished:
                run.finish(_("Done."))


def job_file_chunks(job: Job) -> Iterator[bytes]:
    """The job's file, part by part (one part in memory at a time)."""
    numbers = job.parts.order_by("number").values_list("number", flat=True)
    for number in list(numbers):
        data = job.parts.filter(number=number).values_list("data", flat=True).first()
        if data is not None:
            yield bytes(data)


def jobs_forget(*, now: dt.datetime | None = None) -> int:
    """Delete jobs finished ``FORGET_AFTER`` ago with their files, and jobs a stopped
    worker left unfinished that long; how many jobs went."""
    cutoff = (now or timezone.now()) - FORGET_AFTER
    old = Job.objects.filter(finished_at__lt=cutoff) | Job.objects.filter(
        status__in=Job.UNFINISHED, updated_at__lt=cutoff
    )
    return old.delete()[1].get(Job._meta.label, 0)
