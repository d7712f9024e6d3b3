"""What `send_invitations` and `send_reminders` share: find the wave, send, report."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assessments.models import Wave


class WaveMailCommand(BaseCommand):
    what = "emails"

    def send(self, wave: Wave) -> int:
        raise NotImplementedError

    def add_arguments(self, parser) -> None:
        parser.add_argument("--wave", type=int, required=True, help="the wave's id")

    def handle(self, *args, wave: int, **options) -> None:
        found = Wave.objects.select_related("cohort__program").filter(pk=wave).first()
        if found is None:
            raise CommandError(f"No wave with id {wave}.")
        try:
            sent = self.send(found)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"{found.cohort} {found}: {sent} {self.what} sent."))


def sender(function: Callable[..., int]) -> Callable[[object, Wave], int]:
    return lambda self, wave: function(wave=wave)
