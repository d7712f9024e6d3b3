"""The scored files of one export agree (DESIGN §4): the same person has the same scores
in the respondent, dyad and pairwise files, under one named rule version, and each
response is scored with its own wave's instrument version."""

import io

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from assessments.measurement.rules import BATTERIES, Constants
from assessments.models import DyadWaveResult, Item
from assessments.research.services import export_stream
from relationships.models import Cohort
from tests import factories
from tests.research.conftest import portable_text_of, text_of

pytestmark = pytest.mark.django_db


def frame_of(cohort: Cohort, format: str) -> pd.DataFrame:
    chunks, _ = export_stream(cohort=cohort, format=format)
    return pd.read_csv(io.StringIO("".join(chunks)))


def by_person(respondent: pd.DataFrame, score: str) -> pd.DataFrame:
    """``score`` of each respondent, one column per role, indexed by (wave, dyad)."""
    return respondent.pivot(index=["wave", "dyad"], columns="role", values=score)


@pytest.fixture
def overridden() -> Cohort:
    """The seeded demo, then the program moves its cuts after the results were stored."""
    call_command("seed_demo", "--dyads", "8", "--waves", "3", verbosity=0)
    cohort = Cohort.objects.select_related("program").get(program__slug="demo")
    cohort.program.placement_overrides = {"min_answered_floor": 3, "strain_cut": 2.0}
    cohort.program.save()
    return cohort


def test_a_constants_change_reaches_every_scored_file_of_the_next_export(overridden):
    label = Constants.from_overrides({"min_answered_floor": 3, "strain_cut": 2.0}).version_label
    stored = set(DyadWaveResult.objects.values_list("rule_version", flat=True))
    assert stored == {"continuum-v1"} != {label}
    files = {f: frame_of(overridden, f) for f in ("dyad", "respondent", "pairwise")}
    for name, frame in files.items():
        assert set(frame["rule_version"]) == {label}, name
    dyad = files["dyad"].set_index(["wave", "dyad"])
    respondent = files["respondent"]
    pairwise = files["pairwise"].set_index(["wave", "dyad", "role"])
    for x in BATTERIES:
        people = by_person(respondent, x)
        for role in ("mentor", "protege"):
            pd.testing.assert_series_equal(
                dyad[f"{x}_{role}"].reindex(people.index), people[role], check_names=False
            )
        actor = respondent.set_index(["wave", "dyad", "role"])[x]
        partner = actor.rename(index={"mentor": "protege", "protege": "mentor"}, level="role")
        for column, source in ((f"{x}_A", actor), (f"{x}_P", partner)):
            expected = source.reindex(pairwise.index)
            pd.testing.assert_series_equal(pairwise[column], expected, check_names=False)


def test_the_override_moves_scores_and_states_and_back(overridden):
    moved = frame_of(overridden, "dyad")
    overridden.program.placement_overrides = {}
    overridden.program.save()
    default = frame_of(overridden, "dyad")
    assert set(default["rule_version"]) == {"continuum-v1"}
    assert (default["state"] != moved["state"]).any()
    assert not default["REL_mentor"].equals(moved["REL_mentor"])


def test_current_results_are_left_alone_and_a_missing_one_is_restored(overridden):
    overridden.program.placement_overrides = {}
    overridden.program.save()
    computed = dict(DyadWaveResult.objects.values_list("pk", "computed_at"))
    first = frame_of(overridden, "dyad")
    assert dict(DyadWaveResult.objects.values_list("pk", "computed_at")) == computed
    DyadWaveResult.objects.filter(mentor_submitted=True).order_by("pk").first().delete()
    assert frame_of(overridden, "dyad").equals(first)


# Two instrument versions, REL only: LG and TC of three items each in v1; in v2 LG has a
# fourth item (so 3 of 4 answers are needed) and TC-3 is reverse keyed.
RAW = {
    "mentor": {"REL-LG-1": 6, "REL-LG-2": 6, "REL-TC-1": 5, "REL-TC-2": 5, "REL-TC-3": 2},
    "protege": {"REL-LG-1": 4, "REL-LG-2": 5, "REL-LG-3": 6, "REL-LG-4": 3,
                "REL-TC-1": 6, "REL-TC-2": 6, "REL-TC-3": 3},
}  # fmt: skip
EXPECTED = {
    # v1: LG 2 of 3 answered -> (6+6)/2 = 6; TC (5+5+2)/3 = 4; REL (6+4)/2 = 5
    (1, "mentor"): {"REL-LG": 6.0, "REL-TC": 4.0, "REL": 5.0},
    # v1 has no LG-4: LG (4+5+6)/3 = 5; TC (6+6+3)/3 = 5; REL 5
    (1, "protege"): {"REL-LG": 5.0, "REL-TC": 5.0, "REL": 5.0},
    # v2: LG 2 of 4 < 3 -> missing; TC-3 2 -> 1+7-2 = 6: (5+5+6)/3; REL = TC alone
    (2, "mentor"): {"REL-LG": None, "REL-TC": 16 / 3, "REL": 16 / 3},
    # v2: LG (4+5+6+3)/4 = 4.5; TC-3 3 -> 5: (6+6+5)/3; REL (4.5 + 17/3)/2
    (2, "protege"): {"REL-LG": 4.5, "REL-TC": 17 / 3, "REL": (4.5 + 17 / 3) / 2},
}


def instrument(version: int, lg_items: int, reverse_tc3: bool):
    made = factories.InstrumentFactory(code="two-versions", version=version)
    battery = factories.BatteryFactory(instrument=made, code="REL")
    for order, (code, count) in enumerate([("REL-LG", lg_items), ("REL-TC", 3)]):
        subscale = factories.SubscaleFactory(battery=battery, code=code, order=order)
        for n in range(1, count + 1):
            factories.ItemFactory(
                subscale=subscale, code=f"{code}-{n}", order=n,
                reverse_keyed=reverse_tc3 and f"{code}-{n}" == "REL-TC-3",
            )  # fmt: skip
    return made


@pytest.fixture
def two_versions(cast) -> Cohort:
    """Wave 1 on v1 and wave 2 on v2, both partners answering ``RAW`` in both waves."""
    versions = {1: instrument(1, 3, False), 2: instrument(2, 4, True)}
    for number, made in versions.items():
        wave = factories.WaveFactory(cohort=cast.cohort, number=number, instrument=made)
        items = {i.code: i for i in Item.objects.filter(subscale__battery__instrument=made)}
        for role, answers in RAW.items():
            response = factories.ResponseFactory(
                dyad=cast.dyad, wave=wave, role=role, status="submitted",
                submitted_at=timezone.now(),
            )  # fmt: skip
            for code, value in answers.items():
                if code in items:
                    factories.AnswerFactory(response=response, item=items[code], value=value)
    return Cohort.objects.select_related("program").get(pk=cast.cohort.pk)


def test_each_wave_is_scored_with_its_own_instrument_version(two_versions):
    respondent = frame_of(two_versions, "respondent").set_index(["wave", "role"])
    dyad = frame_of(two_versions, "dyad").set_index("wave")
    for (wave, role), scores in EXPECTED.items():
        for column, expected in scores.items():
            got = respondent.loc[(wave, role), column]
            if expected is None:
                assert pd.isna(got), (wave, role, column)
            else:
                assert got == pytest.approx(expected, abs=5e-5), (wave, role, column)
        assert dyad.loc[wave, f"REL_{role}"] == pytest.approx(scores["REL"], abs=5e-5)
    assert pd.isna(respondent.loc[(1, "protege"), "REL-LG-4"])
    assert respondent.loc[(2, "protege"), "REL-LG-4"] == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY paths are PostgreSQL's")
@pytest.mark.parametrize("format", ["respondent", "dyad", "pairwise"])
def test_two_instrument_versions_copy_the_same_bytes_as_the_python_path(two_versions, format):
    # v2's items have ids after v1's, and v1 answers leave REL-LG-4's column empty.
    text = text_of(two_versions, format)
    assert text == portable_text_of(two_versions, format)
    assert text.count("\r\n") == 1 + (2 if format == "dyad" else 4)  # the header, then rows
