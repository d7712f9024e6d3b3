"""A cohort's kept aggregates: the database rebuild counts exactly what each dyad adds,
submits and follow-ups keep them as a rebuild would, and they say what the results
frames say."""

import datetime as dt

import pandas as pd
import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from assessments.coordinate.charts import counted_states, state_counts, transition_counts
from assessments.coordinate.selectors import frames, summary
from assessments.coordinate.selectors.alerts import alerts_frame, follow_ups_frame, split_alerts
from assessments.coordinate.selectors.waves import opened, waves_table
from assessments.coordinate.services import alert_follow_up
from assessments.models import (
    AlertFollowUp,
    Answer,
    CohortCount,
    CohortSummary,
    DyadWaveResult,
    Item,
    OpenAlert,
    Response,
    Wave,
)
from assessments.results import aggregates, tallies
from assessments.survey.services import response_submit
from relationships.models import Cohort, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Cohort:
    """The seeded demo (12 dyads, 3 waves, the last open) with an ended dyad that never
    answered, a dyad without a stored result and two follow-ups."""
    call_command("seed_demo", "--dyads", "12", "--waves", "3", verbosity=0)
    cohort = Cohort.objects.select_related("program").get(program__slug="demo")
    dyads = list(cohort.dyads.order_by("pk"))
    dyads[0].is_active = False
    dyads[0].save()
    Response.objects.filter(dyad=dyads[0]).update(status="draft", submitted_at=None)
    DyadWaveResult.objects.filter(dyad=dyads[0]).update(
        mentor_submitted=False, protege_submitted=False, state="unplaced"
    )
    DyadWaveResult.objects.filter(dyad=dyads[1]).delete()
    coordinator = User.objects.get(email="coordinator@example.org")
    for result in DyadWaveResult.objects.filter(wave__cohort=cohort, state="dysfunctional")[:2]:
        AlertFollowUp.objects.create(
            dyad=result.dyad, wave=result.wave, reason="dysfunctional", note="x",
            created_by=coordinator,
        )  # fmt: skip
    return cohort


def stored(cohort: Cohort) -> dict:
    """The kept counts, shards summed, without zeros: ``(wave id, name) -> (n, total)``."""
    rows = CohortCount.objects.filter(cohort=cohort).values("wave_id", "name")
    rows = rows.annotate(n=Sum("n"), total=Sum("total"))
    return {(r["wave_id"], r["name"]): (r["n"], r["total"]) for r in rows if r["n"]}


def walked(cohort: Cohort) -> tuple[dict, set]:
    """Every dyad's counts and open alerts, added up in Python."""
    waves = aggregates.wave_facts(cohort.waves.all())
    dyads = aggregates.dyad_facts(cohort=cohort, waves=waves)
    counts = tallies.total(tallies.dyad_counts(d, waves) for d in dyads)
    days = cohort.program.constants.alert_days_before_close
    alerts = {
        (a.dyad, a.wave.id, a.reason, a.raised_at)
        for d in dyads
        for a in tallies.dyad_alerts(d, waves, days)
    }
    return {key: (n, total) for key, (n, total) in counts.items() if n}, alerts


def kept_alerts(cohort: Cohort) -> set:
    rows = OpenAlert.objects.filter(cohort=cohort)
    return set(rows.values_list("dyad_id", "wave_id", "reason", "raised_at"))


def assert_same_counts(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, (n, total) in expected.items():
        assert got[key][0] == n, key
        assert got[key][1] == pytest.approx(total, rel=1e-9, abs=1e-9), key


def test_the_database_rebuild_counts_exactly_what_each_dyad_adds(demo):
    aggregates.rebuild(cohort=demo)
    counts, alerts = walked(demo)
    assert_same_counts(stored(demo), counts)
    assert kept_alerts(demo) == alerts
    names = {name.split(":")[0] for _wave, name in counts}
    assert names == {"state", "submitted", "open", "followed", "move", "bin", "rel"}


def complete_and_submit(response: Response) -> None:
    """Answer every item the draft left open, then submit it as the survey does."""
    items = Item.objects.filter(subscale__battery__instrument=response.wave.instrument)
    answered = set(response.answers.values_list("item_id", flat=True))
    Answer.objects.bulk_create(
        [Answer(response=response, item=i, value=2) for i in items if i.pk not in answered]
    )
    response_submit(response=response)


def test_submits_keep_the_counts_a_rebuild_would_make(demo):
    aggregates.rebuild(cohort=demo)
    drafts = Response.objects.filter(
        wave__cohort=demo, status="draft", wave__closes_at__gt=timezone.now()
    )
    assert drafts.count() >= 2
    for response in drafts.order_by("pk")[:4]:
        complete_and_submit(response)
    kept, kept_open = stored(demo), kept_alerts(demo)
    aggregates.rebuild(cohort=demo)
    assert_same_counts(kept, stored(demo))
    assert kept_open == kept_alerts(demo)
    assert set(CohortCount.objects.filter(cohort=demo).values_list("shard", flat=True)) == {0}


def test_a_follow_up_takes_its_alert_off_the_open_counts(demo):
    aggregates.rebuild(cohort=demo)
    alert = OpenAlert.objects.filter(cohort=demo, reason="dysfunctional").first()
    before = stored(demo)[(alert.wave_id, "open:dysfunctional")][0]
    alert_follow_up(
        dyad=alert.dyad, wave=alert.wave, reason="dysfunctional", note="Called.",
        user=User.objects.get(email="coordinator@example.org"),
    )  # fmt: skip
    counts = stored(demo)
    assert counts.get((alert.wave_id, "open:dysfunctional"), (0,))[0] == before - 1
    assert not OpenAlert.objects.filter(pk=alert.pk).exists()
    kept = counts, kept_alerts(demo)
    aggregates.rebuild(cohort=demo)
    assert_same_counts(kept[0], stored(demo))
    assert kept[1] == kept_alerts(demo)


def test_a_change_made_elsewhere_is_rebuilt_by_the_next_page(demo):
    waves = list(demo.waves.all())
    aggregates.ensure_current(cohorts=[demo], waves=waves)
    built = CohortSummary.objects.get(cohort=demo).built_at
    assert aggregates.ensure_current(cohorts=[demo], waves=waves)[demo.pk] == (12, 11)
    assert CohortSummary.objects.get(cohort=demo).built_at == built  # current: left alone
    demo.dyads.filter(pk=demo.dyads.order_by("pk")[2].pk).update(is_active=False)
    assert aggregates.ensure_current(cohorts=[demo], waves=waves)[demo.pk] == (12, 10)
    assert CohortSummary.objects.get(cohort=demo).built_at > built
    assert_same_counts(stored(demo), walked(demo)[0])
    later = waves[-1].closes_at + dt.timedelta(days=1)
    Wave.objects.filter(pk=waves[-1].pk).update(closes_at=later)
    aggregates.ensure_current(cohorts=[demo], waves=list(demo.waves.all()))
    assert kept_alerts(demo) == walked(demo)[1]


def test_the_counts_say_what_the_results_frames_say(demo):
    """The frames the pages used to build per request, against the kept counts."""
    now = timezone.now()
    waves = list(demo.waves.order_by("number"))
    counts = summary.cohort_counts(cohort=demo, waves=waves, kinds=tallies.KINDS)
    frame = frames.results_frame(dyads=frames.dyads_frame(cohorts=[demo]), waves=waves)
    table = waves_table(waves)
    got = counted_states(summary.state_frame(counts, waves), table)
    pd.testing.assert_frame_equal(got, state_counts(frame, table), check_dtype=False)
    moves = transition_counts(frame)
    pd.testing.assert_frame_equal(summary.movement_frame(counts, waves), moves, check_dtype=False)
    raised = alerts_frame(
        frame, waves=opened(waves, now), constants=demo.program.constants, now=now
    )
    alerts = split_alerts(raised, follow_ups_frame(cohorts=[demo]))
    closing = summary.closing_waves(waves, now, 3)
    for wave in waves:
        open_here = alerts[alerts["open"] & (alerts["wave"] == wave.number)]
        assert counts.open_alerts(wave, closing=closing) == len(open_here), wave
        rows = frame[frame["wave"] == wave.number]
        assert counts.n(wave, "submitted:mentor") == rows["mentor_submitted"].sum()
    pairs = frame.dropna(subset=["rel_mentor", "rel_protege"])
    last = pairs[pairs["wave"] == waves[-1].number]
    n, r = summary.rel_agreement(counts, waves[-1])
    assert n == len(last)
    assert r == pytest.approx(last["rel_mentor"].corr(last["rel_protege"]), abs=1e-9)


def test_a_program_without_cohorts_has_nothing_to_build(db):
    assert aggregates.ensure_current(cohorts=[], waves=[]) == {}
