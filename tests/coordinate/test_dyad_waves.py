"""A dyad's page lists the waves it took part in: none that closed before it started."""

import datetime as dt

from django.utils import timezone

from assessments.coordinate.selectors.dyad import dyad_detail
from tests.coordinate.builders import add_waves, cohort_url, result


def started_after_the_first_wave(cast):
    waves = add_waves(cast.cohort, 3)
    started = timezone.localdate(waves[0].closes_at) + dt.timedelta(days=1)
    cast.dyad.started_on = started
    cast.dyad.save(update_fields=["started_on"])
    return waves


def test_a_dyad_that_started_after_a_wave_closed_does_not_list_it(cast, client):
    waves = started_after_the_first_wave(cast)
    detail = dyad_detail(dyad=cast.dyad, cohort=cast.cohort)
    assert [w.number for w in detail.waves] == [2, 3]
    assert [row["wave"].number for row in detail.wave_rows] == [3, 2]
    client.force_login(cast.coordinator)
    page = client.get(cohort_url(cast, f"dyads/{cast.dyad.research_code}/"))
    assert page.status_code == 200
    assert waves[1].label in page.text and waves[0].label not in page.text


def test_a_dyad_joining_during_an_open_wave_takes_part_in_it(cast):
    waves = add_waves(cast.cohort, 2, open_last=True)
    cast.dyad.started_on = timezone.localdate()
    cast.dyad.save(update_fields=["started_on"])
    assert [w.number for w in dyad_detail(dyad=cast.dyad, cohort=cast.cohort).waves] == [2]
    assert waves[1].is_open()


def test_a_dyad_keeps_the_earlier_waves_it_has_results_in(cast):
    waves = started_after_the_first_wave(cast)
    result(cast.dyad, waves[0], "traditional").save()
    detail = dyad_detail(dyad=cast.dyad, cohort=cast.cohort)
    assert [w.number for w in detail.waves] == [1, 2, 3]
