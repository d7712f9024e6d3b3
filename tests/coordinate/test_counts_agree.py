"""The open-alert counts agree wherever they appear and say which wave they count."""

import re

import pytest
from django.core.management import call_command

from assessments.coordinate.selectors.alerts import cohort_alerts
from assessments.coordinate.selectors.cohort import cohort_dashboard
from relationships.models import Cohort, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(client):
    call_command("seed_demo", "--dyads", "16", "--waves", "3", verbosity=0)
    client.force_login(User.objects.get(email="coordinator@example.org"))
    return Cohort.objects.get(program__slug="demo", slug="2026")


def number_after(text: str, pattern: str) -> int:
    return int(re.search(pattern + r"[^0-9]*?(\d+)", text, re.S).group(1))


def test_the_dashboard_card_the_program_page_and_the_alerts_page_agree(demo, client):
    dashboard = cohort_dashboard(cohort=demo, filters={})
    wave = dashboard.wave
    card = dashboard.headline.open_alerts
    every = cohort_alerts(cohort=demo).open_count
    assert card == cohort_alerts(cohort=demo, wave_number=wave.number).open_count
    assert every > card  # earlier waves hold alerts too: the two counts differ

    page = client.get("/coordinate/demo/2026/").text
    assert f"Open alerts, wave {wave.number}" in page
    assert f'/coordinate/demo/2026/alerts/?wave={wave.number}">{card}<' in page

    program = client.get("/coordinate/demo/").text
    assert "Open alerts (current wave)" in program
    assert f'/coordinate/demo/2026/alerts/?wave={wave.number}">{card}<' in program

    one = client.get(f"/coordinate/demo/2026/alerts/?wave={wave.number}").text
    assert number_after(one, "Open \\(") == card
    assert f"Open alerts of wave {wave.number}, newest first" in one
    all_waves = client.get("/coordinate/demo/2026/alerts/").text
    assert number_after(all_waves, "Open \\(") == every
    assert "Open alerts of every wave, newest first" in all_waves
