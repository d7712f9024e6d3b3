"""A coordinator's dyad import, run on the worker: the file is checked again and every
dyad is created, or none."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks import task

from jobs.models import Job
from jobs.services import JobError, job_running, job_start
from relationships import services as relationship_services
from relationships.models import Cohort

from . import services

IMPORT_KIND = "dyads.import"


def import_start(*, cohort: Cohort, text: str, owner) -> Job:
    """Start importing the checked CSV ``text`` into ``cohort``; the text is kept on the
    job only until the import ends."""
    return job_start(
        task=dyads_import,
        owner=owner,
        kind=IMPORT_KIND,
        title=_("Dyads imported into %(cohort)s") % {"cohort": cohort.name},
        args=[cohort.pk],
        back_url=reverse("coordinate:dyad_import", args=[cohort.program.slug, cohort.slug]),
        payload=text,
    )


@task()
def dyads_import(job_id: str, cohort_id: int) -> None:
    with job_running(job_id) as run:
        if run is None:
            return
        cohort = Cohort.objects.select_related("program").get(pk=cohort_id)
        rows = max(run.payload.count("\n") - 1, 0)
        run.progress(0, total=rows, stage=_("Checking the file and adding the dyads"))
        try:
            plan = services.dyads_import(cohort=cohort, text=run.payload, actor=run.job.owner)
        except relationship_services.DyadImportError as error:
            raise JobError(
                _("Nothing was imported: the file has problems. Fix them and upload it again."),
                problems=[str(problem) for problem in error.problems],
            ) from error
        run.progress(len(plan.dyads), total=len(plan.dyads))
        where = [cohort.program.slug, cohort.slug]
        run.finish(
            _("Imported %(n)d dyads (%(people)d new participants).")
            % {"n": len(plan.dyads), "people": len(plan.new_people)},
            links=[
                (_("Open the cohort"), reverse("coordinate:cohort", args=where)),
                (_("Invitations and dyads"), reverse("coordinate:manage", args=where)),
            ],
        )
