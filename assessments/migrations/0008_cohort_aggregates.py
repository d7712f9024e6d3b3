"""A cohort's precomputed aggregates (the summary row, its counts and open alerts), and
the index that tells whether stored results are current."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0007_invitation_link_nonce'),
        ('relationships', '0003_dyad_supplied_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='CohortCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=9)),
                ('name', models.CharField(max_length=64)),
                ('shard', models.PositiveSmallIntegerField(default=0)),
                ('n', models.BigIntegerField(default=0)),
                ('total', models.FloatField(default=0.0)),
            ],
        ),
        migrations.CreateModel(
            name='CohortSummary',
            fields=[
                ('cohort', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='summary', serialize=False, to='relationships.cohort')),
                ('fingerprint', models.CharField(blank=True, max_length=64)),
                ('follow_ups', models.PositiveIntegerField(default=0)),
                ('last_follow_up', models.BigIntegerField(default=0)),
                ('built_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'verbose_name_plural': 'cohort summaries',
            },
        ),
        migrations.CreateModel(
            name='OpenAlert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(choices=[('dysfunctional', 'Dysfunctional placement'), ('strain_reported', 'Strain reported'), ('reliable_decline', 'Reliable decline'), ('downward_transition', 'Moved down the continuum'), ('norms_incongruent', 'Communal norms incongruent'), ('partner_missing', 'Partner has not submitted')], max_length=24, verbose_name='reason')),
                ('timed', models.BooleanField(default=False)),
                ('raised_at', models.DateTimeField(blank=True, null=True)),
                ('raised_sort', models.DateTimeField()),
                ('code', models.CharField(max_length=12)),
                ('wave_number', models.PositiveSmallIntegerField()),
                ('rank', models.PositiveSmallIntegerField()),
            ],
        ),
        migrations.AddIndex(
            model_name='dyadwaveresult',
            index=models.Index(fields=['wave', 'dyad', 'computed_at', 'rule_version'], name='result_current'),
        ),
        migrations.AddField(
            model_name='cohortcount',
            name='cohort',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='relationships.cohort'),
        ),
        migrations.AddField(
            model_name='cohortcount',
            name='wave',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='assessments.wave'),
        ),
        migrations.AddField(
            model_name='openalert',
            name='cohort',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='relationships.cohort'),
        ),
        migrations.AddField(
            model_name='openalert',
            name='dyad',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='relationships.dyad'),
        ),
        migrations.AddField(
            model_name='openalert',
            name='wave',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='assessments.wave'),
        ),
        migrations.AddIndex(
            model_name='cohortcount',
            index=models.Index(fields=['cohort', 'kind', 'wave'], name='count_by_kind'),
        ),
        migrations.AddConstraint(
            model_name='cohortcount',
            constraint=models.UniqueConstraint(fields=('cohort', 'wave', 'name', 'shard'), name='one_count_per_shard'),
        ),
        migrations.AddIndex(
            model_name='openalert',
            index=models.Index(fields=['cohort', 'timed', '-raised_sort', 'code', '-wave_number', 'rank'], name='open_alert_newest_first'),
        ),
        migrations.AddConstraint(
            model_name='openalert',
            constraint=models.UniqueConstraint(fields=('dyad', 'wave', 'reason'), name='one_open_alert'),
        ),
    ]
