"""``manage.py delivery_schedule [--loop] [--period SECONDS]``: the periodic scheduler."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from delivery.services import schedule_run


class Command(BaseCommand):
    help = (
        "Queue the invitations, reminders and coordinator notices due now and hand due "
        "messages to the workers; with --loop, again every period. Safe to run on several "
        "machines at once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loop", action="store_true", help="run until interrupted")
        parser.add_argument(
            "--period",
            type=float,
            default=settings.DELIVERY_SCHEDULE_SECONDS,
            help="seconds between runs with --loop (default: DELIVERY_SCHEDULE_SECONDS)",
        )

    def handle(self, *args, loop: bool, period: float, **options) -> None:
        try:
            while True:
                tick = schedule_run()
                if options["verbosity"] > 1 or not loop:
                    self.stdout.write(str(tick))
                if not loop:
                    return
                time.sleep(period)
        except KeyboardInterrupt:
            return
