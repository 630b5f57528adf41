"""The business, operators and staff sign-in left for accounts (accounts 0001)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('operators', '0005_staff_sign_in'),
        ('sessions_app', '0005_tenant_models_moved_to_accounts'),
        ('workflows', '0004_tenant_models_moved_to_accounts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (db_table keeps their names):
            # only Django's idea of which app owns them changes.
            state_operations=[
            migrations.AlterField(
                model_name='webhookevent',
                name='business',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='webhook_events', to='accounts.business'),
            ),
            migrations.AlterField(
                model_name='idempotencykey',
                name='business',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.business'),
            ),
            migrations.RemoveField(
                model_name='operator',
                name='business',
            ),
            migrations.AlterField(
                model_name='apikey',
                name='business',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='api_keys', to='accounts.business'),
            ),
            migrations.RemoveField(
                model_name='loginsession',
                name='user',
            ),
            migrations.RemoveField(
                model_name='operator',
                name='user',
            ),
            migrations.AlterField(
                model_name='decision',
                name='operator',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='accounts.operator'),
            ),
            migrations.RemoveField(
                model_name='totpdevice',
                name='user',
            ),
            migrations.DeleteModel(
                name='Business',
            ),
            migrations.DeleteModel(
                name='LoginSession',
            ),
            migrations.DeleteModel(
                name='Operator',
            ),
            migrations.DeleteModel(
                name='TotpDevice',
            ),
            ],
        ),
    ]
