"""Named permissions for reading any survey and coordinating every program (DESIGN §7).

Staff status alone opens nothing beyond the admin index; these are granted explicitly
(superusers hold them implicitly).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0005_export_log"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="dyadwaveresult",
            options={
                "ordering": ["dyad", "wave__number"],
                "permissions": [
                    (
                        "coordinate_all_programs",
                        "Coordinate every program (dashboards and management)",
                    )
                ],
            },
        ),
        migrations.AlterModelOptions(
            name="response",
            options={
                "ordering": ["wave", "dyad", "role"],
                "permissions": [
                    ("view_answers", "View any participant's survey and results read-only")
                ],
            },
        ),
    ]
