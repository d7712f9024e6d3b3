"""Work started from a page and done by the worker: its progress, its outcome and, for an
export, its file.

A job belongs to the account that started it and is shown only to that account. Its
file is kept in the database in parts of ``PART_BYTES``, so whichever app server the
person reaches hands out what whichever machine's worker wrote; housekeeping
(``manage.py jobs_forget``) removes finished jobs and their files after a day.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

PART_BYTES = 1 << 20  # a file is stored in parts of 1 MiB


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting for the worker")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    UNFINISHED = (Status.QUEUED, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.CASCADE,
        related_name="jobs",
    )
    permission = models.CharField(
        _("permission"),
        max_length=100,
        blank=True,
        help_text=_("A permission the owner must still hold to see the job and its file."),
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    key = models.CharField(
        _("key"),
        max_length=200,
        blank=True,
        help_text=_("Jobs with the same key do the same work: only one is unfinished at once."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    stage = models.CharField(_("stage"), max_length=200, blank=True)
    done = models.PositiveBigIntegerField(_("done"), default=0)
    total = models.PositiveBigIntegerField(_("total"), default=0)
    message = models.TextField(_("outcome"), blank=True)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    links = models.JSONField(
        _("links"), default=list, blank=True, help_text=_("[label, url] pairs shown when done.")
    )
    back_url = models.CharField(_("back to"), max_length=500, blank=True)
    payload = models.TextField(
        _("input"),
        blank=True,
        help_text=_("What the job reads (an uploaded file); emptied when it ends."),
    )
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file_type = models.CharField(_("file type"), max_length=100, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    created_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("picked up"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last report"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(status__in=["queued", "running"]) & ~Q(key=""),
                name="jobs_one_unfinished_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def has_file(self) -> bool:
        return self.status == self.Status.DONE and bool(self.file_name)


class JobFilePart(models.Model):
    """One part of a job's file, in order of ``number``."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="jobs_one_part_per_number")
        ]

    def __str__(self) -> str:
        return f"{self.job_id} part {self.number}"
