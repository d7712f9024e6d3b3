"""Small builders for test rows. Every factory makes a valid object by default."""

import datetime as dt

import factory
from django.utils import timezone

from assessments.models import Answer, Battery, Instrument, Item, Response, Subscale, Wave
from relationships.models import Cohort, CoordinatorMembership, Dyad, Participant, Program, User

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        password = kwargs.pop("password", PASSWORD)
        return model_class.objects.create_user(*args, password=password, **kwargs)


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")
    slug = factory.Sequence(lambda n: f"program-{n}")


class CoordinatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoordinatorMembership

    program = factory.SubFactory(ProgramFactory)
    user = factory.SubFactory(UserFactory)


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Cohort {n}")
    slug = factory.Sequence(lambda n: f"cohort-{n}")


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    user = factory.SubFactory(UserFactory)
    name = factory.LazyAttribute(lambda p: p.user.get_full_name() if p.user else "")


class DyadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dyad

    cohort = factory.SubFactory(CohortFactory)
    mentor = factory.SubFactory(ParticipantFactory)
    protege = factory.SubFactory(ParticipantFactory)
    # As an import does: the program names the partners of its dyad.
    mentor_name = factory.LazyAttribute(lambda dyad: dyad.mentor.name)
    protege_name = factory.LazyAttribute(lambda dyad: dyad.protege.name)


class InstrumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instrument

    code = "test-instrument"
    version = factory.Sequence(lambda n: n + 1)
    title = "Test instrument"


class BatteryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Battery

    instrument = factory.SubFactory(InstrumentFactory)
    code = "REL"
    title = "Relational functions"
    scale_min = 1
    scale_max = 7
    scale_labels = factory.LazyFunction(lambda: [str(i) for i in range(1, 8)])


class SubscaleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscale

    battery = factory.SubFactory(BatteryFactory)
    code = "REL-TC"
    title = "Trust"


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    subscale = factory.SubFactory(SubscaleFactory)
    code = factory.Sequence(lambda n: f"REL-TC-{n + 1}")
    text_mentor = "I trust my partner."
    text_protege = "I trust my partner."
    allow_na = True


class WaveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Wave

    cohort = factory.SubFactory(CohortFactory)
    number = factory.Sequence(lambda n: n + 1)
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=7))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=21))
    instrument = factory.SubFactory(InstrumentFactory)


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    dyad = factory.SubFactory(DyadFactory)
    wave = factory.SubFactory(WaveFactory, cohort=factory.SelfAttribute("..dyad.cohort"))
    role = "mentor"
    respondent = factory.LazyAttribute(
        lambda r: r.dyad.mentor if r.role == "mentor" else r.dyad.protege
    )


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Answer

    response = factory.SubFactory(ResponseFactory)
    item = factory.SubFactory(ItemFactory)
    value = 4
