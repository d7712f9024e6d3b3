"""Each dyad keeps the names its program gave the partners; existing dyads start with the
participants' names as they stand."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

HELP = (
    "As this dyad's program names the person; its coordinators see this name, not the "
    "participant's own."
)


def copy_participant_names(apps, schema_editor):
    Dyad = apps.get_model("relationships", "Dyad")
    Participant = apps.get_model("relationships", "Participant")

    def name_of(role: str) -> Subquery:
        return Subquery(Participant.objects.filter(pk=OuterRef(f"{role}_id")).values("name")[:1])

    Dyad.objects.update(mentor_name=name_of("mentor"), protege_name=name_of("protege"))


class Migration(migrations.Migration):
    dependencies = [
        ("relationships", "0002_participant_erasure"),
    ]

    operations = [
        migrations.AddField(
            model_name="dyad",
            name="mentor_name",
            field=models.CharField(
                blank=True, help_text=HELP, max_length=200, verbose_name="mentor's name"
            ),
        ),
        migrations.AddField(
            model_name="dyad",
            name="protege_name",
            field=models.CharField(
                blank=True, help_text=HELP, max_length=200, verbose_name="protégé's name"
            ),
        ),
        migrations.RunPython(copy_participant_names, migrations.RunPython.noop, elidable=True),
    ]
