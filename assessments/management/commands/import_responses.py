from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assessments.research.imports import responses_import
from audit.models import AuditEvent
from audit.services import audit_record


class Command(BaseCommand):
    help = "Load a long-format file (DESIGN §6.2): all rows or none, then score the cohorts."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options) -> None:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from None
        try:
            added = responses_import(data=data)
        except ValidationError as error:
            lines = "\n".join(f"  {message}" for message in error.messages)
            raise CommandError(
                f"{file}: {len(error.messages)} problem(s); nothing was loaded.\n{lines}"
            ) from None
        audit_record(
            action=AuditEvent.Action.RESPONSES_IMPORTED,
            target=file.name,
            detail={"answers": added, "via": "command"},
        )
        self.stdout.write(self.style.SUCCESS(f"{file}: {added} answers loaded."))
