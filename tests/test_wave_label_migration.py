"""assessments 0010: stored English default labels go, a coordinator's own labels stay;
going back writes the default in again."""

import importlib

import pytest
from django.apps import apps

from assessments.models import Wave
from tests import factories

pytestmark = pytest.mark.django_db

migration = importlib.import_module("assessments.migrations.0010_default_wave_labels")


def test_default_labels_are_forgotten_and_own_labels_kept():
    cohort = factories.CohortFactory()
    labels = {1: "Wave 1", 2: "Spring check-in", 3: "Wave 4", 4: "", 12: "Wave 12"}
    for number, label in labels.items():
        factories.WaveFactory(cohort=cohort, number=number, label=label)
    migration.forget_default_labels(apps, None)
    stored = dict(Wave.objects.values_list("number", "label"))
    assert stored == {1: "", 2: "Spring check-in", 3: "Wave 4", 4: "", 12: ""}
    migration.restore_default_labels(apps, None)
    stored = dict(Wave.objects.values_list("number", "label"))
    assert stored == {1: "Wave 1", 2: "Spring check-in", 3: "Wave 4", 4: "Wave 4", 12: "Wave 12"}
