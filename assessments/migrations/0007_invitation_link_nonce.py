"""Invitation links are signed over a per-invitation nonce instead of a stored hash."""

import assessments.models.survey
from django.db import migrations, models


def fresh_nonces(apps, schema_editor):
    Invitation = apps.get_model("assessments", "Invitation")
    for invitation in Invitation.objects.only("pk").iterator():
        invitation.nonce = assessments.models.survey.invitation_nonce()
        invitation.save(update_fields=["nonce"])


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0006_staff_permissions"),
    ]

    operations = [
        migrations.RemoveField(model_name="invitation", name="token_hash"),
        migrations.AddField(
            model_name="invitation",
            name="last_used_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invitation",
            name="nonce",
            field=models.CharField(
                default=assessments.models.survey.invitation_nonce, editable=False, max_length=32
            ),
        ),
        migrations.RunPython(fresh_nonces, migrations.RunPython.noop),
    ]
