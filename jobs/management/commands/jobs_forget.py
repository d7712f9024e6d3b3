from django.core.management.base import BaseCommand

from jobs.services import FORGET_AFTER, jobs_forget


class Command(BaseCommand):
    help = (
        f"Delete background jobs (and their files) finished more than {FORGET_AFTER} ago, "
        "and those a stopped worker left unfinished that long. Run daily."
    )

    def handle(self, *args, **options) -> None:
        gone = jobs_forget()
        self.stdout.write(f"{gone} finished jobs forgotten.")
