"""Seed a demo business for `make run` and the browser tests: an operator and
a compliance officer (credentials printed), a workflow, a one-on-one and a
multi-user session."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Business, Operator
from accounts.models import COMPLIANCE_GROUP
from accounts.services import business_staff_add, operator_create
from sessions_app.audit import Actor
from sessions_app.models import VerificationSession
from sessions_app.services import ParticipantSpec, session_create
from workflows.models import WorkflowTemplate

DEMO_STEPS = [
    {
        "kind": "terms",
        "terms_version": "2026-11",
        "terms_text": {
            "en": (
                "Verity will verify your identity in a video call with one of our operators. "
                "The call is recorded, and images of your identity document and your face are "
                "taken as evidence. We keep them only as long as the law requires, and never "
                "share them with anyone not entitled to them."
            ),
            "de": (
                "Verity prüft Ihre Identität in einem Videoanruf mit jemandem aus unserem Ident-Team. "
                "Der Anruf wird aufgezeichnet, und Bilder Ihres Ausweisdokuments und Ihres Gesichts "
                "werden als Nachweis aufgenommen. Wir bewahren sie nur so lange auf, wie das Gesetz "
                "es verlangt, und geben sie niemals an Unbefugte weiter."
            ),
        },
    },
    {"kind": "device_check"},
    {"kind": "document", "document_kinds": ["passport", "id_card"]},
    {"kind": "liveness", "action_count": 3},
    {
        "kind": "questions",
        # The customer types the first answer and chooses the second in their
        # frame; the operator notes what they see beside it.
        "questions": [
            {"ask": {"en": "What is your date of birth?", "de": "Wie lautet Ihr Geburtsdatum?"}, "answer": "typed"},
            {
                "ask": {"en": "Why are you opening this account?", "de": "Warum eröffnen Sie dieses Konto?"},
                "answer": "choice",
                "choices": [
                    {"en": "Everyday banking", "de": "Alltägliche Bankgeschäfte"},
                    {"en": "Savings", "de": "Sparen"},
                    {"en": "Business", "de": "Geschäftlich"},
                    {"en": "Something else", "de": "Etwas anderes"},
                ],
            },
        ],
    },
    {"kind": "notes"},
]


class Command(BaseCommand):
    help = "Create a demo business, operator, workflow and sessions, and print the links."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="operator password (default: a new random one)")
        parser.add_argument("--username", default="operator")
        parser.add_argument("--compliance-username", default="compliance")
        parser.add_argument("--business", default="demo-bank")
        parser.add_argument("--multi-user", type=int, default=3, help="participants in the multi-user session")
        parser.add_argument("--json", action="store_true", help="print JSON (for tests)")
        # A regulated workflow (kyc.regulations): the demo sessions run under it.
        parser.add_argument("--preset", help="the workflow's preset (kyc.regulations.PRESET_CODES)")
        parser.add_argument("--rules", help="comma-separated rule codes the workflow switches on")

    @transaction.atomic
    def handle(self, *args, **options):
        business, _ = Business.objects.get_or_create(
            slug=options["business"], defaults={"name": options["business"].replace("-", " ").title()}
        )
        workflow, _ = WorkflowTemplate.objects.get_or_create(
            business=business, name="Standard video identification", defaults={"steps": DEMO_STEPS}
        )
        if options["preset"] or options["rules"]:
            workflow.preset = options["preset"] or workflow.preset
            workflow.rules = [code for code in (options["rules"] or "").split(",") if code]
            workflow.full_clean()
            workflow.save()
        password = options["password"] or secrets.token_urlsafe(12)
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=options["username"], defaults={"first_name": "Olivia"})
        user.set_password(password)
        user.is_active = True
        user.save()
        if not Operator.objects.filter(user=user).exists():
            operator_create(user=user, business=business, display_name="Olivia")
        # The business's own compliance officer: the admin shows them this
        # business's sessions, their review pages and exports, nothing else.
        reviewer, _ = user_model.objects.get_or_create(
            username=options["compliance_username"], defaults={"first_name": "Carol"}
        )
        reviewer.set_password(password)
        reviewer.is_active = True
        reviewer.save()
        business_staff_add(user=reviewer, business=business, role=COMPLIANCE_GROUP)
        one = session_create(
            business=business,
            workflow=workflow,
            kind=VerificationSession.Kind.ONE_ON_ONE,
            participants=[ParticipantSpec(name="Max Mustermann", email="max@example.com", business_reference="CUST-1001")],
            business_reference="ACCOUNT-OPEN-1001",
            actor=Actor.system(),
        )
        names = ["Anna Schmidt", "Ben Schmidt", "Clara Schmidt", "David Schmidt"]
        multi = session_create(
            business=business,
            workflow=workflow,
            kind=VerificationSession.Kind.MULTI_USER,
            participants=[
                ParticipantSpec(name=names[i % len(names)], business_reference=f"CUST-20{i:02d}")
                for i in range(options["multi_user"])
            ],
            business_reference="JOINT-ACCOUNT-2001",
            actor=Actor.system(),
        )
        result = {
            "business": business.slug,
            "operator": {"username": user.username, "password": password},
            "compliance": {"username": reviewer.username, "password": password},
            "one_on_one": {"session": one.session.public_id.hex, "links": [url for _, url in one.links]},
            "multi_user": {"session": multi.session.public_id.hex, "links": [url for _, url in multi.links]},
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        base = settings.PUBLIC_BASE_URL
        self.stdout.write(self.style.SUCCESS("Verity demo is ready."))
        self.stdout.write(f"  One-on-one customer link: {result['one_on_one']['links'][0]}")
        for number, link in enumerate(result["multi_user"]["links"], start=1):
            self.stdout.write(f"  Multi-user customer {number} link: {link}")
        self.stdout.write(f"  Operator console:   {base}/console/  sign in as {user.username} / {password}")
        self.stdout.write(f"  Compliance (admin): {base}/admin/  sign in as {reviewer.username} / {password}")
        if settings.STAFF_REQUIRE_SECOND_FACTOR:
            self.stdout.write("    (admin users set up an authenticator app at their first sign-in)")
