from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assessments.models import Wave
from assessments.participant_services import invitations_send


class Command(BaseCommand):
    help = "Email each partner of the wave's active dyads a fresh magic link."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--wave", type=int, required=True, help="the wave's id")

    def handle(self, *args, wave: int, **options) -> None:
        found = Wave.objects.select_related("cohort__program").filter(pk=wave).first()
        if found is None:
            raise CommandError(f"No wave with id {wave}.")
        try:
            sent = invitations_send(wave=found)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"{found.cohort} {found}: {sent} invitations sent."))
