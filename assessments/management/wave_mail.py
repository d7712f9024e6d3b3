"""What `send_invitations` and `send_reminders` share: find the wave, queue, record in the
audit trail, report."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assessments.models import Wave
from audit.services import audit_record
from delivery.models import DeliveryBatch
from delivery.selectors import batch_progress


class WaveMailCommand(BaseCommand):
    what = "emails"
    action = ""  # the AuditEvent.Action recorded for a send

    def send(self, wave: Wave) -> DeliveryBatch:
        raise NotImplementedError

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--wave",
            required=True,
            help="PROGRAM/COHORT/NUMBER as the pages show it (e.g. demo/2026/2), or the id",
        )

    def handle(self, *args, wave: str, **options) -> None:
        found = wave_named(wave)
        try:
            batch = self.send(found)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        audit_record(
            action=self.action,
            target=f"{found.cohort.path} wave {found.number}",
            detail={"queued": batch.total, "via": "command"},
            program=found.cohort.program.slug,
        )
        self.stdout.write(self.style.SUCCESS(f"{found.cohort} {found}: {report(batch, self.what)}"))


def wave_named(name: str) -> Wave:
    """The wave ``PROGRAM/COHORT/NUMBER`` (slugs and the wave's number), or with that id."""
    waves = Wave.objects.select_related("cohort__program")
    parts = name.strip().split("/")
    if len(parts) == 1 and parts[0].isascii() and parts[0].isdigit():
        found = waves.filter(pk=int(parts[0])).first()
    elif len(parts) == 3 and parts[2].isascii() and parts[2].isdigit():
        program, cohort, number = parts
        found = waves.filter(
            cohort__program__slug=program, cohort__slug=cohort, number=int(number)
        ).first()
    else:
        raise CommandError(
            f"Name the wave as PROGRAM/COHORT/NUMBER (e.g. demo/2026/2), not {name!r}."
        )
    if found is None:
        raise CommandError(f"No wave {name}.")
    return found


def report(batch: DeliveryBatch, what: str) -> str:
    """``8 invitations sent.`` when the worker already sent them all, else how many are
    queued and how many went out so far."""
    progress = batch_progress(batch=batch)
    if progress.sent == progress.total:
        return f"{progress.sent} {what} sent."
    return (
        f"{progress.total} {what} queued, {progress.sent} sent so far; "
        "the delivery worker sends the rest (docs/delivery.md)."
    )
