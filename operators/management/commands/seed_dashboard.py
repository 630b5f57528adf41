"""Seed a month of call history for a business's supervisor dashboard, and a
supervisor of that business (credentials printed). Run after seed_demo
(`make run` does): it needs the business and its workflow."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import SUPERVISORS_GROUP, Business, Operator
from accounts.services import business_staff_add, operator_create
from operators.supervisor.seed import dashboard_sessions_seed
from sessions_app.models import VerificationSession
from workflows.models import WorkflowTemplate

# The seeded history's operators: not the demo's own operator, so her console
# history stays hers.
SEED_OPERATORS = (("mara", "Mara"), ("tom", "Tom"), ("yusuf", "Yusuf"), ("ines", "Ines"))


class Command(BaseCommand):
    help = "Seed a month of sessions for the supervisor dashboard and create a supervisor."

    def add_arguments(self, parser):
        parser.add_argument("--business", default="demo-bank")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--per-day", type=int, default=40)
        parser.add_argument("--seed", type=int, default=21)
        parser.add_argument("--username", default="supervisor")
        parser.add_argument("--password", help="supervisor password (default: a new random one)")
        parser.add_argument("--json", action="store_true", help="print JSON (for tests)")

    @transaction.atomic
    def handle(self, *args, **options):
        business = Business.objects.filter(slug=options["business"]).first()
        workflow = WorkflowTemplate.objects.filter(business=business).order_by("pk").first() if business else None
        if workflow is None:
            raise CommandError(f"No business {options['business']!r} with a workflow: run seed_demo first.")
        user_model = get_user_model()
        operators = []
        for username, name in SEED_OPERATORS:
            user, created = user_model.objects.get_or_create(username=f"{business.slug}-{username}", defaults={"first_name": name})
            if created:
                user.set_unusable_password()  # they never sign in: their calls are history
                user.save()
            operator = Operator.objects.filter(user=user).first() or operator_create(user=user, business=business, display_name=name)
            operators.append(operator)
        password = options["password"] or secrets.token_urlsafe(12)
        supervisor, _ = user_model.objects.get_or_create(username=options["username"], defaults={"first_name": "Sam"})
        supervisor.set_password(password)
        supervisor.is_active = True
        supervisor.save()
        business_staff_add(user=supervisor, business=business, role=SUPERVISORS_GROUP)
        # `make run` runs this every time: the month is seeded once.
        seeded = VerificationSession.objects.filter(business=business, business_reference__startswith="SEED-")
        count = seeded.count() or dashboard_sessions_seed(
            business=business, workflow=workflow, operators=operators,
            days=options["days"], per_day=options["per_day"], seed=options["seed"],
        )
        result = {
            "business": business.slug,
            "sessions": count,
            "supervisor": {"username": supervisor.username, "password": password},
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(self.style.SUCCESS(f"Seeded {count} sessions over {options['days']} days for {business.name}."))
        self.stdout.write(
            f"  Supervisor dashboard: {settings.PUBLIC_BASE_URL}/supervisor/  sign in as {supervisor.username} / {password}"
        )
