import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from assessments.research.services import (
    FORMATS,
    LABELLED,
    archive_write,
    export_log,
    export_stream,
    labelled_write,
)
from relationships.models import Cohort

OUTPUT_HELP = (
    "file to write (default stdout; zip, sav and dta need it). sav and dta write two "
    "files, the respondent and the dyad file, named from FILE: -o out/demo.sav writes "
    "out/demo-respondent.sav and out/demo-dyad.sav; an existing folder gets "
    "PROGRAM-COHORT-respondent.sav and PROGRAM-COHORT-dyad.sav"
)


class Command(BaseCommand):
    help = (
        "Write a cohort's pseudonymised research file (DESIGN §6.2) to stdout or a file: "
        "CSV (long, respondent, dyad, pairwise, codebook), the respondent and dyad files "
        "labelled for SPSS (sav) or Stata (dta), or a zip of every file. docs/exports.md "
        "describes them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("cohort", metavar="PROGRAM/COHORT")
        parser.add_argument("--format", required=True, choices=[*FORMATS, *LABELLED, "zip"])
        parser.add_argument("-o", "--output", type=Path, metavar="FILE", help=OUTPUT_HELP)

    def handle(self, *args, cohort: str, format: str, output: Path | None, **options) -> None:
        found = self._cohort(cohort)
        if output is None and format not in FORMATS:
            raise CommandError(f"{format} needs -o FILE.")
        if format == "zip":
            with output.open("wb") as handle:
                rows = archive_write(cohort=found, format=format, target=handle)
            written = [output]
        elif format in LABELLED:
            named = self._named(found, output)
            written, rows = labelled_write(cohort=found, format=format, **named)
        else:
            rows, written = self._write(found, format, output), [output]
        export_log(user=None, cohort=found, format=format, rows=rows, via="command")
        if output is not None:
            self.stderr.write(f"{', '.join(map(str, written))}: {rows} rows")

    def _named(self, cohort: Cohort, output: Path) -> dict:
        """Folder and name stem of the two files of a labelled format."""
        if output.is_dir():
            return {"folder": output, "stem": f"{cohort.program.slug}-{cohort.slug}"}
        if not output.parent.is_dir():
            raise CommandError(f"No folder {output.parent} to write into.")
        return {"folder": output.parent, "stem": output.stem}

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
