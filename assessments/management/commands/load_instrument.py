from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.instruments import InvalidDefinition, read_definition, validate_definition
from assessments.models import Instrument
from assessments.services import instrument_load


class Command(BaseCommand):
    help = "Validate an instrument definition (JSON) and load it; nothing is loaded on any problem."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="path to the instrument definition")
        parser.add_argument("--check", action="store_true", help="validate only; load nothing")

    def handle(self, *args, file: Path, check: bool, **options) -> None:
        try:
            definition = read_definition(file)
            if check:
                problems = validate_definition(definition)
                if problems:
                    raise InvalidDefinition(problems)
                self.stdout.write(self.style.SUCCESS(f"{file}: valid"))
                return
            before = Instrument.objects.filter(
                code=definition.get("code"), version=definition.get("version")
            ).first()
            instrument, created = instrument_load(definition=definition)
        except InvalidDefinition as error:
            lines = [f"  {problem}" for problem in error.problems]
            raise CommandError(
                f"{file}: {len(error.problems)} problem(s); nothing was loaded.\n"
                + "\n".join(lines)
            ) from None
        verb = "Loaded" if created else "Already loaded, unchanged:"
        if before is not None and before.languages != instrument.languages:
            verb = "Added languages to"
        items = sum(len(s["items"]) for b in definition["batteries"] for s in b["subscales"])
        languages = ", ".join(instrument.languages)
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {instrument.label} ({items} items; {languages}).")
        )
