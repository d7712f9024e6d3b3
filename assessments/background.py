"""Scoring work that runs on the worker (``jobs``): a cohort's results recomputed.

A cohort is recomputed when its program's scoring constants change (the program admin
starts it) and before a scored export when the stored results are not those of the
current constants (the exports page starts it). Either way the person is sent to the
job's page, which shows the answers scored so far.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _
from django_tasks import task

from audit.models import AuditEvent
from audit.services import audit_record
from jobs.models import Job
from jobs.services import job_running, job_start
from relationships.models import Cohort

from .models import Answer
from .services import results_recompute

RECOMPUTE_KIND = "cohort.recompute"


def recompute_start(
    *, cohort: Cohort, owner, back_url: str = "", then: tuple[str, str] | None = None
) -> Job:
    """Start (or join, when one is already under way) the recompute of ``cohort``;
    ``then`` is a (label, url) link offered when it is done."""
    return job_start(
        task=recompute,
        owner=owner,
        kind=RECOMPUTE_KIND,
        title=_("Scoring %(cohort)s again") % {"cohort": cohort.path},
        args=[cohort.pk, list(then or ())],
        key=f"recompute:{cohort.pk}",
        back_url=back_url,
    )


def answers_to_score(cohort: Cohort) -> int:
    """The submitted answers a recompute of ``cohort`` reads (its progress total)."""
    return Answer.objects.filter(
        response__wave__cohort=cohort, response__status="submitted"
    ).count()


def cohort_rescore(
    *, cohort: Cohort, actor=None, via: str, answered: Callable[[int], None] | None = None
) -> int:
    """Recompute every result of ``cohort`` and record it in the audit trail; returns the
    results written. ``answered(n)`` hears of each ``n`` answers scored."""
    tell = answered or (lambda n: None)
    written = results_recompute(
        cohort=cohort, progress=lambda stage, n: tell(n) if stage == "answers" else None
    )
    audit_record(
        action=AuditEvent.Action.SCORES_RECOMPUTED,
        actor=actor,
        target=cohort.path,
        detail={
            "results": written,
            "rule_version": cohort.program.constants.version_label,
            "via": via,
        },
        program=cohort.program.slug,
    )
    return written


@task()
def recompute(job_id: str, cohort_id: int, then: list[str]) -> None:
    """Recompute every result of a cohort, reporting the answers scored."""
    with job_running(job_id) as run:
        if run is None:
            return
        cohort = Cohort.objects.select_related("program").get(pk=cohort_id)
        total = answers_to_score(cohort)
        run.progress(0, total=total, stage=_("Scoring the answers"))
        written = cohort_rescore(
            cohort=cohort, actor=run.job.owner, via="page", answered=run.advance
        )
        run.finish(
            _("%(results)d results of %(cohort)s computed from %(answers)d answers.")
            % {"results": written, "cohort": cohort.path, "answers": total},
            links=[tuple(then)] if then else (),
        )
