"""The business, operators and staff sign-in move from the console's app
(operators) to the floor below every app. No table changes; the content types
(and so every permission and admin log entry on them) follow the models."""

import secrets
import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ("business", "operator", "totpdevice", "loginsession")


def content_types_follow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="accounts", model=model).exists():
            ContentType.objects.filter(app_label="operators", model=model).update(app_label="accounts")


def content_types_return(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="accounts", model__in=MOVED).update(app_label="operators")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('operators', '0005_staff_sign_in'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (db_table keeps their names):
            # only Django's idea of which app owns them changes.
            state_operations=[
            migrations.CreateModel(
                name='Business',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('name', models.CharField(max_length=200)),
                    ('slug', models.SlugField(unique=True)),
                    ('retention_days', models.PositiveIntegerField(default=365, help_text='Evidence and personal data are erased this many days after a session ends.')),
                    ('webhook_url', models.URLField(blank=True)),
                    ('webhook_secret', models.CharField(default=secrets.token_hex, editable=False, max_length=64)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                ],
                options={
                    'verbose_name_plural': 'businesses',
                    'db_table': 'operators_business',
                    'ordering': ['name'],
                },
            ),
            migrations.CreateModel(
                name='LoginSession',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('session_key', models.CharField(max_length=64, unique=True)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'operators_loginsession',
                },
            ),
            migrations.CreateModel(
                name='Operator',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('display_name', models.CharField(max_length=120)),
                    ('presence', models.CharField(choices=[('available', 'Available'), ('busy', 'Busy'), ('away', 'Away')], default='away', max_length=16)),
                    ('last_seen_at', models.DateTimeField(blank=True, null=True)),
                    ('business', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='operators', to='accounts.business')),
                    ('user', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='operator', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'operators_operator',
                },
            ),
            migrations.CreateModel(
                name='TotpDevice',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('secret_encrypted', models.TextField(editable=False)),
                    ('confirmed_at', models.DateTimeField(blank=True, editable=False, null=True)),
                    ('last_used_step', models.BigIntegerField(default=0, editable=False)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='totp_device', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'TOTP device',
                    'db_table': 'operators_totpdevice',
                },
            ),
            ],
        ),
        migrations.RunPython(content_types_follow, content_types_return),
    ]
