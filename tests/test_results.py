"""Stored results follow the answers and the program's constants; answers never move."""

import pytest
from django.core.management import CommandError, call_command

from assessments.models import Answer, DyadWaveResult
from relationships.models import Cohort

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Cohort:
    call_command("seed_demo", "--dyads", "8", "--waves", "3")
    return Cohort.objects.select_related("program").get(program__slug="demo")


def test_default_constants_store_the_plain_rule_version(demo):
    versions = set(DyadWaveResult.objects.values_list("rule_version", flat=True))
    assert versions == {"continuum-v1"}
    assert DyadWaveResult.objects.first().constants["strain_cut"] == 3.0


def test_program_overrides_give_new_results_under_a_new_version(demo, capsys):
    answers = sorted(Answer.objects.values_list("id", "value"))
    dysfunctional = DyadWaveResult.objects.filter(state="dysfunctional").count()
    demo.program.placement_overrides = {"strain_cut": 1.0}
    demo.program.full_clean()
    demo.program.save()

    call_command("recompute_scores", "--cohort", "demo/2026")

    results = DyadWaveResult.objects.exclude(state="unplaced")
    labels = set(results.values_list("rule_version", flat=True))
    assert len(labels) == 1 and labels.pop().startswith("continuum-v1+")
    assert all(r.constants["strain_cut"] == 1.0 for r in results)
    assert results.filter(state="dysfunctional").count() > dysfunctional
    assert sorted(Answer.objects.values_list("id", "value")) == answers
    assert "demo/2026:" in capsys.readouterr().out


def test_recompute_without_changes_keeps_every_state(demo):
    before = sorted(DyadWaveResult.objects.values_list("dyad_id", "wave_id", "state", "rel_dyad"))
    call_command("recompute_scores")
    after = sorted(DyadWaveResult.objects.values_list("dyad_id", "wave_id", "state", "rel_dyad"))
    assert after == before


def test_unknown_placement_constants_are_refused_with_their_name(demo):
    from django.core.exceptions import ValidationError

    demo.program.placement_overrides = {"strain_cutoff": 2}
    with pytest.raises(ValidationError, match="strain_cutoff"):
        demo.program.full_clean()


def test_recompute_of_an_unknown_cohort_says_how_to_name_one(demo):
    with pytest.raises(CommandError, match="PROGRAM/COHORT"):
        call_command("recompute_scores", "--cohort", "demo/1999")


def test_stored_scores_match_the_partners_answers(demo):
    result = DyadWaveResult.objects.filter(state__in=["traditional", "relational"]).first()
    assert result.rel_dyad == pytest.approx((result.rel_mentor + result.rel_protege) / 2)
    assert result.rel_diff == pytest.approx(result.rel_protege - result.rel_mentor)
    assert result.position == pytest.approx(100 * (result.rel_dyad - 1) / 6)
    assert set(result.subscales["mentor"]) >= {"REL-LG", "REL-TC", "CAR-SP", "PSY-FR"}
