import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from assessments.background import answers_to_score, cohort_rescore
from relationships.models import Cohort


class Command(BaseCommand):
    help = "Recompute every stored dyad result (DESIGN §4) from the submitted answers."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cohort", metavar="PROGRAM/COHORT", help="only this cohort")

    def handle(self, *args, cohort: str | None, **options) -> None:
        cohorts = self._cohorts(cohort)
        for current in cohorts:
            started = time.perf_counter()
            total = answers_to_score(current)
            with tqdm(
                total=total, desc=f"{current.path} answers", unit="answer", disable=None
            ) as bar:
                written = cohort_rescore(cohort=current, via="command", answered=bar.update)
            seconds = time.perf_counter() - started
            self.stdout.write(
                f"{current.path}: {written} results from {total} answers in {seconds:.1f} s "
                f"({current.program.constants.version_label})"
            )

    def _cohorts(self, path: str | None) -> list[Cohort]:
        cohorts = Cohort.objects.select_related("program")
        if path is None:
            return list(cohorts)
        program, _, slug = path.partition("/")
        found = list(cohorts.filter(program__slug=program, slug=slug))
        if not found:
            raise CommandError(f"No cohort {path!r}; use PROGRAM/COHORT slugs, e.g. demo/2026.")
        return found
