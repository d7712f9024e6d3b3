"""Research files built on the worker: a zip (every file, or the SPSS or Stata files)."""

from __future__ import annotations

import tempfile

from django.utils.translation import gettext as _
from django_tasks import task

from jobs.models import Job
from jobs.services import job_running, job_start
from relationships.models import Cohort

from .services import archive_steps, archive_write, export_log

# Who may download the files (here and on the exports page); a zip is kept for its
# owner only while they still hold it.
PERMISSION = "assessments.export_cohort"
ARCHIVE_KIND = "cohort.archive"


def archive_start(*, cohort: Cohort, format: str, owner, back_url: str) -> Job:
    """Start building a cohort's zip for ``owner``, who alone may download it."""
    return job_start(
        task=archive,
        owner=owner,
        kind=ARCHIVE_KIND,
        title=_("%(file)s of %(cohort)s") % {"file": _file_label(format), "cohort": cohort.path},
        args=[cohort.pk, format],
        permission=PERMISSION,
        back_url=back_url,
    )


def _file_label(format: str) -> str:
    return {"zip": _("Every research file"), "sav": _("SPSS files"), "dta": _("Stata files")}[
        format
    ]


@task()
def archive(job_id: str, cohort_id: int, format: str) -> None:
    with job_running(job_id) as run:
        if run is None:
            return
        cohort = Cohort.objects.select_related("program").get(pk=cohort_id)
        stages = {"scores": _("Bringing the scores up to date")}
        run.progress(0, total=archive_steps(format))

        def begun(name: str) -> None:
            stage = stages.get(name) or _("Writing the %(file)s file") % {"file": name}
            run.progress(run.job.done + (name != "scores"), stage=stage)

        with tempfile.TemporaryFile() as handle:
            rows = archive_write(cohort=cohort, format=format, target=handle, progress=begun)
            name = f"{cohort.program.slug}-{cohort.slug}-{format}.zip"
            size = run.attach(name, "application/zip", handle)
        export_log(user=run.job.owner, cohort=cohort, format=format, rows=rows, via="page")
        run.finish(
            _("The file is ready: %(rows)d rows of data, %(size)d bytes.")
            % {"rows": rows, "size": size}
        )
