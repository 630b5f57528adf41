"""The business and operator models now live in accounts."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('sessions_app', '0004_recordings'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (db_table keeps their names):
            # only Django's idea of which app owns them changes.
            state_operations=[
            migrations.AlterField(
                model_name='auditchain',
                name='business',
                field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='audit_chain', to='accounts.business'),
            ),
            migrations.AlterField(
                model_name='auditevent',
                name='business',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='audit_events', to='accounts.business'),
            ),
            migrations.AlterField(
                model_name='verificationsession',
                name='business',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='accounts.business'),
            ),
            migrations.AlterField(
                model_name='verificationsession',
                name='operator',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='accounts.operator'),
            ),
            ],
        ),
    ]
