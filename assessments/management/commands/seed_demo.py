import datetime as dt
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from assessments import demo
from assessments.instruments import SLUG, InvalidDefinition, read_definition
from assessments.models import Answer, Instrument, Invitation, Item, Response, Wave
from assessments.services import instrument_load, results_recompute
from relationships.codes import fresh_codes
from relationships.models import Cohort, CoordinatorMembership, Dyad, Participant, Program, User

DEFAULT_INSTRUMENT = Path(settings.BASE_DIR) / "fixtures/instruments/continuum-default-v1.json"
DEMO_PASSWORD = "continuum-demo"
DEMO_COHORT = "2026"
DYADS_PER_BATCH = 500
LOGINS = (
    ("admin", "admin@example.org"),
    ("coordinator", "coordinator@example.org"),
    ("mentor", "mentor@example.org"),
    ("protégé", "protege@example.org"),
)
FIRST = "Ana Ben Chloé Dev Eli Fatima Gus Hana Ivo Jun Kemal Lena Malik Nia Omar Priya".split()
LAST = "Okafor Lindqvist Moreau Tanaka Silva Novak Haddad Kowalski Mensah Rossi Park Ortiz".split()
WAVE_SPACING = dt.timedelta(days=90)
WAVE_LENGTH = dt.timedelta(days=30)
COHORT_LEAD = dt.timedelta(days=14)  # a cohort starts two weeks before its first wave


class Command(BaseCommand):
    help = "Create (once) a demo program with realistic dyad trajectories and demo logins."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dyads", type=int, default=24, help="number of dyads (24)")
        parser.add_argument("--waves", type=int, default=4, help="number of waves (4)")
        parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
        parser.add_argument(
            "--cohort",
            default=DEMO_COHORT,
            help=f"cohort slug in the demo program ({DEMO_COHORT}); other cohorts get their "
            "own generated people and no demo logins",
        )
        parser.add_argument(
            "--instrument",
            type=Path,
            default=DEFAULT_INSTRUMENT,
            help="instrument definition for new waves (the default instrument)",
        )

    def handle(
        self, *args, dyads: int, waves: int, seed: int, instrument: Path, cohort: str, **options
    ):
        if dyads < 1 or waves < 1:
            raise CommandError("--dyads and --waves must be at least 1.")
        try:
            instrument, _ = instrument_load(definition=read_definition(instrument))
        except InvalidDefinition as error:
            raise CommandError(f"{instrument}: {error}") from None
        if not SLUG.fullmatch(cohort):
            raise CommandError("--cohort must be a slug: lowercase letters, digits and '-'.")
        slug = cohort
        with transaction.atomic():
            first_opens = _first_opens(waves)
            cohort = self._program_and_cohort(slug, first_opens.date() - COHORT_LEAD)
            self._demo_staff(cohort.program)
            wave_rows = self._waves(cohort, instrument, waves, first_opens)
            pairs = self._dyads(cohort, dyads)
            new_dyads = [(i, d) for i, d, created in pairs if created]
            self._answers(instrument, wave_rows, new_dyads, seed)
        if new_dyads:
            results_recompute(cohort=cohort)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo program ready: {len(pairs)} dyads ({len(new_dyads)} new), "
                f"{len(wave_rows)} waves in {cohort.path}."
            )
        )
        for role, email in LOGINS:
            self.stdout.write(f"  {role:<12} {email:<28} password: {DEMO_PASSWORD}")

    def _program_and_cohort(self, slug: str, started_on: dt.date) -> Cohort:
        """The demo program and cohort; the cohort starts before its first wave opens
        (a demo made before that rule has its start, and its dyads', moved back)."""
        program, _ = Program.objects.get_or_create(
            slug="demo",
            defaults={
                "name": "Demo mentoring program",
                "description": "A made-up program to explore Continuum.",
            },
        )
        cohort, _ = Cohort.objects.get_or_create(
            program=program,
            slug=slug,
            defaults={"name": f"{slug} cohort", "started_on": started_on},
        )
        if cohort.started_on > started_on:
            cohort.dyads.filter(started_on__gt=started_on).update(started_on=started_on)
            cohort.started_on = started_on
            cohort.save(update_fields=["started_on"])
        return cohort

    def _user(self, email: str, first: str, last: str, **extra) -> tuple[User, bool]:
        user, created = User.objects.get_or_create(
            email=email, defaults={"first_name": first, "last_name": last, **extra}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user, created

    def _demo_staff(self, program: Program) -> None:
        self._user("admin@example.org", "Ada", "Admin", is_staff=True, is_superuser=True)
        coordinator, _ = self._user("coordinator@example.org", "Cora", "Coordinator")
        CoordinatorMembership.objects.get_or_create(program=program, user=coordinator)

    def _waves(
        self, cohort: Cohort, instrument: Instrument, count: int, first_opens: dt.datetime
    ) -> list[Wave]:
        """The cohort's waves 1 to ``count``, made where missing. They have no label, so
        each is named "Wave N" in its reader's language; a demo that stored the English
        name as the label has it cleared."""
        existing = {wave.number: wave for wave in cohort.waves.all()}
        for wave in existing.values():
            if wave.label == f"Wave {wave.number}":
                wave.label = ""
                wave.save(update_fields=["label"])
        waves = []
        for number in range(1, count + 1):
            opens = first_opens + WAVE_SPACING * (number - 1)
            wave = existing.get(number) or Wave.objects.create(
                cohort=cohort,
                number=number,
                opens_at=opens,
                closes_at=opens + WAVE_LENGTH,
                instrument=instrument,
            )
            waves.append(wave)
        return waves

    def _dyads(self, cohort: Cohort, count: int) -> list[tuple[int, Dyad, bool]]:
        emails = [
            (_email("mentor", i, cohort.slug), _email("protege", i, cohort.slug))
            for i in range(count)
        ]
        people = self._participants([email for pair in emails for email in pair])
        existing = {(d.mentor_id, d.protege_id): d for d in cohort.dyads.all()}
        missing = [
            (
                i,
                Dyad(
                    cohort=cohort,
                    mentor=people[m],
                    protege=people[p],
                    mentor_name=people[m].name,
                    protege_name=people[p].name,
                    started_on=cohort.started_on,
                ),
            )
            for i, (m, p) in enumerate(emails)
            if (people[m].pk, people[p].pk) not in existing
        ]
        for (_, dyad), code in zip(missing, fresh_codes(Dyad, "D", len(missing)), strict=True):
            dyad.research_code = code
        Dyad.objects.bulk_create([dyad for _, dyad in missing])
        created = {i for i, _ in missing}
        dyads = {i: dyad for i, dyad in missing}
        for i, (m, p) in enumerate(emails):
            dyads.setdefault(i, existing.get((people[m].pk, people[p].pk)))
        return [(i, dyads[i], i in created) for i in range(count)]

    def _participants(self, emails: list[str]) -> dict[str, Participant]:
        found = {
            p.user.email: p
            for p in Participant.objects.filter(user__email__in=emails).select_related("user")
        }
        new_users = [_demo_user(email, i) for i, email in enumerate(emails) if email not in found]
        User.objects.bulk_create(new_users)
        users = User.objects.filter(email__in=[u.email for u in new_users])
        users = list(users)
        codes = fresh_codes(Participant, "P", len(users))
        created = Participant.objects.bulk_create(
            [
                Participant(user=user, name=user.get_full_name(), research_code=code)
                for user, code in zip(users, codes, strict=True)
            ]
        )
        for participant in created:
            found[participant.user.email] = participant
        return found

    def _answers(self, instrument, waves: list[Wave], new_dyads, seed: int) -> None:
        items = list(
            Item.objects.filter(subscale__battery__instrument=instrument).select_related(
                "subscale__battery"
            )
        )
        table = demo.ItemTable.build([_item_row(item) for item in items])
        now = timezone.now()
        # A few hundred dyads at a time, so seeding a large cohort keeps memory flat.
        for start in tqdm(range(0, len(new_dyads), DYADS_PER_BATCH), desc="demo answers",
                          unit="batch", disable=None):  # fmt: skip
            planned: list[tuple[Response, list[int | None]]] = []
            for index, dyad in new_dyads[start : start + DYADS_PER_BATCH]:
                rng = np.random.default_rng([seed, index])
                planned += _dyad_responses(rng, index, dyad, waves, table, now)
            Response.objects.bulk_create([response for response, _ in planned], batch_size=2000)
            answers = [
                Answer(response=response, item=item, value=value)
                for response, values in planned
                for item, value in zip(items, values, strict=True)
                if value != "skip"
            ]
            Answer.objects.bulk_create(answers, batch_size=5000)
            Invitation.objects.bulk_create(
                [i for response, _ in planned if (i := _invitation(response, now))],
                batch_size=2000,
            )


def _invitation(response: Response, now: dt.datetime) -> Invitation | None:
    """Everyone who answered was invited the day their wave opened (so the manage page's
    "Invited" counts them); in the open wave only those who submitted, so that the demo
    coordinator can still invite, and remind, the rest."""
    wave = response.wave
    if wave.closes_at > now and response.status != Response.Status.SUBMITTED:
        return None
    return Invitation(
        wave=wave, dyad=response.dyad, participant=response.respondent, sent_at=wave.opens_at
    )


def _first_opens(waves: int) -> dt.datetime:
    """When the first of ``waves`` opens: the last is open now, opened ten days ago, and
    earlier ones closed at three-month steps."""
    last_opens = timezone.now().replace(microsecond=0) - dt.timedelta(days=10)
    return last_opens - WAVE_SPACING * (waves - 1)


def _email(role: str, index: int, cohort: str = "2026") -> str:
    if cohort != DEMO_COHORT:
        return f"{role}-{cohort}-{index:05d}@demo.example.org"
    if index == 0:
        return f"{role}@example.org"
    return f"{role}-{index:04d}@demo.example.org"


def _demo_user(email: str, index: int) -> User:
    number = sum(email.encode())
    password = DEMO_PASSWORD if email.endswith("@example.org") and "-" not in email else None
    return User(
        email=email,
        first_name=FIRST[(number + index) % len(FIRST)],
        last_name=LAST[(number * 7 + index) % len(LAST)],
        password=make_password(password),
    )


def _item_row(item: Item) -> dict:
    battery = item.subscale.battery
    return {
        "code": item.code,
        "battery": battery.code,
        "subscale": item.subscale.code,
        "reverse_keyed": item.reverse_keyed,
        "allow_na": item.allow_na,
        "scale_min": battery.scale_min,
        "scale_max": battery.scale_max,
    }


def _dyad_responses(rng, index: int, dyad: Dyad, waves: list[Wave], table, now):
    """Responses for one dyad over all waves: (unsaved Response, answer values)."""
    archetype = demo.archetype_for(index)
    sides = [
        ("mentor", dyad.mentor, archetype.mentor),
        ("protege", dyad.protege, archetype.protege),
    ]
    offsets = {role: demo.person_offsets(rng, table) for role, _, _ in sides}
    planned = []
    for wave in waves:
        # Trajectories complete by the last closed wave; the open wave continues the end.
        t = min(1.0, (wave.number - 1) / max(len(waves) - 2, 1))
        current = wave.closes_at > now
        for role, person, side in sides:
            status = _status(rng, index, role, current)
            if side is None or status is None:
                continue
            values = demo.answer_values(rng, table, side.at(t), offsets[role])
            submitted_at = None
            if status == "submitted":
                latest = min(wave.closes_at, now) - wave.opens_at
                submitted_at = wave.opens_at + latest * float(rng.uniform(0.1, 0.95))
            else:  # a draft: the first half answered
                values = values[: len(values) // 2] + ["skip"] * (len(values) - len(values) // 2)
            response = Response(
                wave=wave,
                dyad=dyad,
                respondent=person,
                role=role,
                status=status,
                started_at=submitted_at or wave.opens_at,
                submitted_at=submitted_at,
            )
            planned.append((response, values))
    return planned


def _status(rng, index: int, role: str, current: bool) -> str | None:
    """Closed waves are complete; the open wave is part-way, and the demo dyad untouched."""
    if not current:
        return "submitted"
    if index == 0:
        return None
    draw = rng.random()
    if draw < 0.55 or (role == "mentor" and draw < 0.75):
        return "submitted"
    if draw < 0.85:
        return "draft"
    return None
