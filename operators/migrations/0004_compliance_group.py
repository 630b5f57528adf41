from django.db import migrations

COMPLIANCE_GROUP = "compliance"  # operators.models.COMPLIANCE_GROUP, frozen here


def create_group(apps, schema_editor):
    # Membership is what the admin checks (operators.compliance); the group
    # needs no model permissions of its own.
    apps.get_model("auth", "Group").objects.get_or_create(name=COMPLIANCE_GROUP)


class Migration(migrations.Migration):
    dependencies = [
        ("operators", "0003_integration"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
