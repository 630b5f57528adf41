"""Per-business administration: staff linked to one business, and the
groups of the roles (accounts.models: BUSINESS_ADMINS_GROUP,
PLATFORM_STAFF_GROUP)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# accounts.models' group names, frozen here.
GROUPS = ("business_admins", "platform_staff")


def create_groups(apps, schema_editor):
    # Membership is what the admin checks (accounts.selectors); the groups
    # need no model permissions of their own.
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_business_require_second_factor"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BusinessStaff",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "business",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="staff", to="accounts.business"
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="business_staff",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "business staff member", "verbose_name_plural": "business staff"},
        ),
        migrations.RunPython(create_groups, migrations.RunPython.noop),
    ]
