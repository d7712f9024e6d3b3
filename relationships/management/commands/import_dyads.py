from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import audit_record
from relationships.models import Cohort
from relationships.services import DyadImportError, dyads_import, dyads_preview


class Command(BaseCommand):
    help = (
        "Import dyads from a CSV file (mentor_email, mentor_name, protege_email, protege_name; "
        "optional kind, supervisory, started_on): all rows or none."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="CSV file, UTF-8, header row")
        parser.add_argument("--cohort", required=True, metavar="PROGRAM/COHORT")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report; write nothing"
        )

    def handle(self, *args, file: Path, cohort: str, dry_run: bool, **options) -> None:
        target = self._cohort(cohort)
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            if dry_run:
                plan = dyads_preview(cohort=target, text=text)
                if plan.problems:
                    raise DyadImportError(plan.problems)
            else:
                plan = dyads_import(cohort=target, text=text)
                audit_record(
                    action=AuditEvent.Action.DYADS_IMPORTED,
                    target=target.path,
                    detail={"dyads": len(plan.dyads), "file": file.name, "via": "command"},
                    program=target.program.slug,
                )
        except DyadImportError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(error.problems)} problem(s) in {file}; nothing was imported."
            ) from None
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {len(plan.rows)} dyads into {target.path} "
                f"({len(plan.new_people)} new participants)."
            )
        )

    def _cohort(self, path: str) -> Cohort:
        program, _, slug = path.partition("/")
        cohort = Cohort.objects.select_related("program").filter(program__slug=program, slug=slug)
        found = cohort.first()
        if found is None:
            raise CommandError(f"No cohort {path!r}; give it as PROGRAM/COHORT slugs.")
        return found
