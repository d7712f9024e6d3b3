"""Every rule of the domain model is a database constraint (or a model guard with a
clear message); each test breaks one rule and expects it refused."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.models import Answer, Battery, InstrumentLocked, Response
from relationships.models import Dyad, Participant
from tests import factories

pytestmark = pytest.mark.django_db


def refused(match: str | None = None):
    """Expect an IntegrityError inside its own savepoint (PostgreSQL needs one)."""

    class _Refused:
        def __enter__(self):
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.raises = pytest.raises(IntegrityError, match=match)
            self.raises.__enter__()

        def __exit__(self, *exc):
            handled = self.raises.__exit__(*exc)
            self.atomic.__exit__(None, None, None)
            return handled

    return _Refused()


@pytest.fixture
def item():
    return factories.ItemFactory(allow_na=False)


@pytest.fixture
def response(item):
    return factories.ResponseFactory(wave__instrument=item.subscale.battery.instrument)


def test_a_mentor_cannot_be_their_own_protege():
    person = factories.ParticipantFactory()
    with refused():
        factories.DyadFactory(mentor=person, protege=person)


def test_self_mentoring_is_explained_by_validation():
    person = factories.ParticipantFactory()
    dyad = Dyad(cohort=factories.CohortFactory(), mentor=person, protege=person)
    with pytest.raises(ValidationError, match="cannot be their own protégé"):
        dyad.full_clean()


def test_a_pair_has_one_active_dyad_per_cohort():
    dyad = factories.DyadFactory()
    with refused():
        factories.DyadFactory(cohort=dyad.cohort, mentor=dyad.mentor, protege=dyad.protege)


def test_an_ended_dyad_lets_the_pair_start_again():
    dyad = factories.DyadFactory(is_active=False, ended_on=timezone.localdate())
    again = factories.DyadFactory(cohort=dyad.cohort, mentor=dyad.mentor, protege=dyad.protege)
    assert again.is_active


def test_a_dyad_cannot_end_before_it_starts():
    with refused():
        factories.DyadFactory(
            started_on=dt.date(2026, 5, 1), ended_on=dt.date(2026, 4, 1), is_active=False
        )


def test_participant_research_codes_are_unique():
    first = factories.ParticipantFactory()
    with refused():
        Participant.objects.create(research_code=first.research_code)


def test_dyad_research_codes_are_unique():
    first = factories.DyadFactory()
    with refused():
        factories.DyadFactory(research_code=first.research_code)


def test_research_codes_look_like_the_design():
    participant = factories.ParticipantFactory()
    dyad = factories.DyadFactory()
    assert participant.research_code.startswith("P-") and len(participant.research_code) == 8
    assert dyad.research_code.startswith("D-") and len(dyad.research_code) == 8


def test_one_response_per_wave_dyad_and_role(response):
    with refused():
        Response.objects.create(
            wave=response.wave, dyad=response.dyad, respondent=response.respondent, role="mentor"
        )


def test_a_submitted_response_carries_its_time(response):
    with refused():
        Response.objects.filter(pk=response.pk).update(status="submitted")


def test_a_respondent_must_hold_the_role_in_the_dyad(response):
    response.respondent = response.dyad.protege
    with pytest.raises(ValidationError, match="not the mentor of this dyad"):
        response.clean()


def test_one_answer_per_response_and_item(response, item):
    Answer.objects.create(response=response, item=item, value=3)
    with refused():
        Answer.objects.create(response=response, item=item, value=4)


@pytest.mark.parametrize("value", [0, 8, -1, 100])
def test_answers_outside_the_scale_are_refused(response, item, value):
    with refused("outside its scale"):
        Answer.objects.create(response=response, item=item, value=value)


@pytest.mark.parametrize("value", [1, 7])
def test_answers_at_the_scale_ends_are_kept(response, item, value):
    assert Answer.objects.create(response=response, item=item, value=value).value == value


def test_updating_an_answer_out_of_scale_is_refused(response, item):
    answer = Answer.objects.create(response=response, item=item, value=5)
    with refused("outside its scale"):
        Answer.objects.filter(pk=answer.pk).update(value=9)
    answer.refresh_from_db()
    assert answer.value == 5


def test_not_applicable_only_where_the_item_allows_it(item):
    allowing = factories.ItemFactory(subscale=item.subscale, allow_na=True)
    response = factories.ResponseFactory(wave__instrument=item.subscale.battery.instrument)
    with refused("outside its scale"):
        Answer.objects.create(response=response, item=item, value=None)
    assert Answer.objects.create(response=response, item=allowing, value=None).value is None


def test_a_five_point_battery_refuses_six():
    strain = factories.ItemFactory(
        subscale__battery__code="STR",
        subscale__battery__scale_max=5,
        subscale__battery__scale_labels=list("abcde"),
        subscale__code="STR",
        code="STR-1",
    )
    response = factories.ResponseFactory(wave__instrument=strain.subscale.battery.instrument)
    with refused("outside its scale"):
        Answer.objects.create(response=response, item=strain, value=6)
    assert Answer.objects.create(response=response, item=strain, value=5).value == 5


def test_a_battery_scale_must_be_sane():
    with refused():
        factories.BatteryFactory(scale_min=5, scale_max=5)


def test_a_wave_must_close_after_it_opens():
    now = timezone.now()
    with refused():
        factories.WaveFactory(opens_at=now, closes_at=now - dt.timedelta(days=1))


def test_an_instrument_without_responses_can_be_edited(item):
    instrument = item.subscale.battery.instrument
    instrument.title = "Renamed"
    instrument.save()


def test_an_answered_instrument_cannot_be_edited(response, item):
    instrument = response.wave.instrument
    instrument.title = "Renamed"
    with pytest.raises(InstrumentLocked, match="load a new version"):
        instrument.save()


def test_items_of_an_answered_instrument_cannot_be_edited(response, item):
    item.text_mentor = "Changed wording"
    with pytest.raises(InstrumentLocked):
        item.save()
    with pytest.raises(InstrumentLocked):
        Battery.objects.get(pk=item.subscale.battery_id).delete()


def test_a_new_version_of_an_answered_instrument_can_be_made(response):
    old = response.wave.instrument
    factories.InstrumentFactory(code=old.code, version=old.version + 1)


def test_fresh_codes_avoid_each_other_and_the_codes_in_use(monkeypatch):
    from relationships import codes

    monkeypatch.setattr(codes, "ALPHABET", "AB")
    monkeypatch.setattr(codes, "CODE_LENGTH", 3)  # eight possible codes
    taken = ["P-AAA", "P-AAB", "P-ABA", "P-ABB", "P-BAA"]
    for code in taken:
        factories.ParticipantFactory(research_code=code)
    fresh = codes.fresh_codes(Participant, "P", 3)
    assert sorted(fresh) == ["P-BAB", "P-BBA", "P-BBB"]
