"""``manage.py delivery_worker [--burst]``: run the background worker of the configured
task engine (the database queue's ``db_worker``, or an RQ worker with Redis), with a
heartbeat that ``/healthz`` reads (``delivery.heartbeat``)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

from delivery.heartbeat import Heartbeat


class Command(BaseCommand):
    help = (
        "Run a worker for background tasks (email delivery among them): the database "
        "queue by default, RQ when TASKS_BACKEND=redis."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--burst", action="store_true", help="run the tasks waiting now, then exit"
        )

    def handle(self, *args, burst: bool, **options) -> None:
        verbosity = options["verbosity"]
        engine = type(task_backends[DEFAULT_TASK_BACKEND_ALIAS]).__name__
        if engine == "DatabaseBackend":
            with Heartbeat(engine=engine):
                extra = ["--batch"] if burst else []
                call_command("db_worker", "--no-reload", *extra, verbosity=verbosity)
        elif engine == "RQBackend":
            with Heartbeat(engine=engine):
                call_command(
                    "rqworker",
                    "default",
                    job_class="django_tasks_rq.Job",
                    with_scheduler=True,
                    burst=burst,
                    verbosity=verbosity,
                )
        else:
            raise CommandError(
                f"The task backend ({engine}) runs each task inside the caller: "
                "there is no worker to start."
            )
