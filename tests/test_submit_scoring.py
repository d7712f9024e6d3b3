"""A submit scores its dyad without frames (``pipeline.score_dyad``): what it stores is
exactly what the cohort-wide recompute (``pipeline.score``) stores."""

import pytest
from django.core.management import call_command

from assessments.models import DyadWaveResult
from assessments.services import results_recompute
from relationships.models import Cohort

pytestmark = pytest.mark.django_db

SKIPPED = {"id", "computed_at"}


def stored(cohort: Cohort) -> list[dict]:
    fields = [f.attname for f in DyadWaveResult._meta.concrete_fields if f.name not in SKIPPED]
    rows = DyadWaveResult.objects.filter(wave__cohort=cohort).order_by("dyad_id", "wave_id")
    return list(rows.values(*fields))


def test_a_dyad_scored_alone_stores_exactly_what_the_cohort_recompute_stores():
    call_command("seed_demo", "--dyads", "12", "--waves", "3", verbosity=0)
    cohort = Cohort.objects.select_related("program").get(program__slug="demo")
    cohort.program.placement_overrides = {"strain_cut": 2.5}
    cohort.program.save()
    results_recompute(cohort=cohort)
    whole = stored(cohort)
    DyadWaveResult.objects.filter(wave__cohort=cohort).update(state="unplaced", rel_dyad=None)
    for dyad in cohort.dyads.order_by("pk"):
        assert results_recompute(cohort=cohort, dyad_ids=[dyad.pk]) == 3
    assert stored(cohort) == whole


def test_a_cohort_recomputed_a_few_dyads_at_a_time_stores_what_one_pass_stores(monkeypatch):
    from assessments import selectors, services

    call_command("seed_demo", "--dyads", "8", "--waves", "3", verbosity=0)
    cohort = Cohort.objects.select_related("program").get(program__slug="demo")
    whole = stored(cohort)
    monkeypatch.setattr(services, "RECOMPUTE_CHUNK", 3)
    read = []
    frames = selectors.scoring_frames
    monkeypatch.setattr(
        selectors, "scoring_frames", lambda **kw: read.append(kw["dyad_ids"]) or frames(**kw)
    )
    assert results_recompute(cohort=cohort) == 8 * 3
    assert [len(dyads) for dyads in read] == [3, 3, 2]  # memory follows the chunk
    assert stored(cohort) == whole
