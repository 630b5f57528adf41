"""Webhook secrets in the Standard Webhooks form (whsec_<base64 key>), and
the egress policy as the webhook URL's validator.

A secret made before was a hex string whose ASCII bytes were the HMAC key
(receivers verify with ``secret.encode()``). It becomes whsec_ and the base64
of those same bytes: the key does not change, so a receiver still checking
the deprecated Verity-Signature with its old hex secret keeps verifying, and
the admin shows a secret the standardwebhooks libraries take as it is. One
form in the database means one way to get the key when signing."""

import base64
import string

from django.db import migrations, models

import accounts.models
import kyc.egress

PREFIX = "whsec_"


def hex_to_whsec(apps, schema_editor):
    Business = apps.get_model("accounts", "Business")
    for business in Business.objects.exclude(webhook_secret__startswith=PREFIX).only("pk", "webhook_secret"):
        key = business.webhook_secret.encode("ascii")
        Business.objects.filter(pk=business.pk).update(webhook_secret=PREFIX + base64.b64encode(key).decode("ascii"))


def whsec_to_hex(apps, schema_editor):
    # Only the converted secrets go back to hex; one born whsec_ has no hex
    # form and stays as it is (50 characters fit the old column).
    Business = apps.get_model("accounts", "Business")
    for business in Business.objects.filter(webhook_secret__startswith=PREFIX).only("pk", "webhook_secret"):
        key = base64.b64decode(business.webhook_secret[len(PREFIX) :])
        text = key.decode("latin-1")
        if len(text) == 64 and all(char in string.hexdigits for char in text):
            Business.objects.filter(pk=business.pk).update(webhook_secret=text)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="business",
            name="webhook_secret",
            field=models.CharField(default=accounts.models.webhook_secret_generate, editable=False, max_length=100),
        ),
        migrations.RunPython(hex_to_whsec, whsec_to_hex),
        migrations.AlterField(
            model_name="business",
            name="webhook_url",
            field=models.URLField(blank=True, validators=[kyc.egress.egress_url_validate]),
        ),
    ]
