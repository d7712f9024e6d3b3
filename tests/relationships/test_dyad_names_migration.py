"""The migration that gives each dyad its own partner names starts them from the
participants' names as they stood."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("relationships", "0002_participant_erasure")]
AFTER = [("relationships", "0003_dyad_supplied_names")]


def migrated(target):
    """The models as they are at ``target``, after migrating the database there."""
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    executor.loader.build_graph()
    return executor.loader.project_state(target).apps


def latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_dyads_keep_the_names_their_partners_had():
    old = migrated(BEFORE)
    Program, Cohort, Participant, Dyad = (
        old.get_model("relationships", name)
        for name in ("Program", "Cohort", "Participant", "Dyad")
    )
    cohort = Cohort.objects.create(
        program=Program.objects.create(name="P", slug="p"), name="C", slug="c"
    )
    ann = Participant.objects.create(name="Ann Example", research_code="P-ANN001")
    bo = Participant.objects.create(name="", research_code="P-BO0001")
    Dyad.objects.create(cohort=cohort, mentor=ann, protege=bo, research_code="D-AB0001")
    try:
        dyad = migrated(AFTER).get_model("relationships", "Dyad").objects.get()
        assert (dyad.mentor_name, dyad.protege_name) == ("Ann Example", "")
    finally:
        latest()
