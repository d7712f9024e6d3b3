import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from assessments.research.services import FORMATS, export_log, export_stream, export_zip
from relationships.models import Cohort


class Command(BaseCommand):
    help = "Write a cohort's pseudonymised research file (DESIGN §6.2) to stdout or a file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("cohort", metavar="PROGRAM/COHORT")
        parser.add_argument("--format", required=True, choices=[*FORMATS, "zip"])
        parser.add_argument("-o", "--output", type=Path, help="file to write (default stdout)")

    def handle(self, *args, cohort: str, format: str, output: Path | None, **options) -> None:
        found = self._cohort(cohort)
        if format == "zip":
            if output is None:
                raise CommandError("A zip needs -o FILE.")
            data, rows = export_zip(cohort=found)
            output.write_bytes(data)
        else:
            rows = self._write(found, format, output)
        export_log(user=None, cohort=found, format=format, rows=rows, via="command")
        if output is not None:
            self.stderr.write(f"{output}: {rows} rows")

    def _write(self, cohort: Cohort, format: str, output: Path | None) -> int:
        chunks, counted = export_stream(cohort=cohort, format=format)
        if output is None:
            for chunk in chunks:
                sys.stdout.write(chunk)
            return counted.count
        with (
            output.open("w", encoding="utf-8", newline="") as handle,
            tqdm(desc=f"{cohort.path} {format}", unit="row", disable=None, file=sys.stderr) as bar,
        ):
            for chunk in chunks:
                handle.write(chunk)
                bar.update(counted.count - bar.n)
        return counted.count

    def _cohort(self, path: str) -> Cohort:
        program, _, slug = path.partition("/")
        found = Cohort.objects.select_related("program").filter(program__slug=program, slug=slug)
        if not found:
            raise CommandError(f"No cohort {path!r}; use PROGRAM/COHORT slugs, e.g. demo/2026.")
        return found[0]
