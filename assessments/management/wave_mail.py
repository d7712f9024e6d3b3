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
        parser.add_argument("--wave", type=int, required=True, help="the wave's id")

    def handle(self, *args, wave: int, **options) -> None:
        found = Wave.objects.select_related("cohort__program").filter(pk=wave).first()
        if found is None:
            raise CommandError(f"No wave with id {wave}.")
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
