"""The business model now lives in accounts."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('workflows', '0003_checkresult'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (db_table keeps their names):
            # only Django's idea of which app owns them changes.
            state_operations=[
            migrations.AlterField(
                model_name='workflowtemplate',
                name='business',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='workflows', to='accounts.business'),
            ),
            ],
        ),
    ]
