"""Waves whose stored label is only the English default ("Wave 3" for wave 3) lose it, so
their name follows each reader's language ("Oleada 3", "Vague 3"); a label a
coordinator wrote stays. Going back writes the English default in again."""

from django.db import migrations
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat


def _english_default():
    return Concat(Value("Wave "), Cast(F("number"), CharField()))


def forget_default_labels(apps, schema_editor):
    Wave = apps.get_model("assessments", "Wave")
    Wave.objects.annotate(default=_english_default()).filter(label=F("default")).update(label="")


def restore_default_labels(apps, schema_editor):
    Wave = apps.get_model("assessments", "Wave")
    Wave.objects.filter(label="").update(label=_english_default())


class Migration(migrations.Migration):
    dependencies = [("assessments", "0009_instrument_languages")]

    operations = [migrations.RunPython(forget_default_labels, restore_default_labels)]
