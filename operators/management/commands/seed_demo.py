"""Seed a demo business for `make run` and the browser tests: an operator and
a compliance officer (credentials printed), a workflow, a one-on-one and a
multi-user session; and for regulated deployments two workflows with their
preset's rules on (BaFin VideoIdent, RBI V-CIP), a small question bank and
the operator's training attestations for both presets."""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Business, Operator, OperatorTraining
from accounts.models import COMPLIANCE_GROUP
from accounts.services import business_staff_add, operator_create
from sessions_app.audit import Actor
from sessions_app.models import VerificationSession
from sessions_app.services import ParticipantSpec, session_create
from kyc import regulations
from workflows.models import BankQuestion, WorkflowTemplate

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


# The question bank for randomised questions (RBI V-CIP): categories so the
# draw can spread across them (workflows.question_draw).
DEMO_QUESTION_BANK = [
    ("Personal details", {"en": "What is your place of birth?", "de": "Wo sind Sie geboren?"}, "spoken", []),
    ("Personal details", {"en": "What is your date of birth?", "de": "Wie lautet Ihr Geburtsdatum?"}, "typed", []),
    ("Contact", {"en": "Which city do you live in?", "de": "In welcher Stadt wohnen Sie?"}, "spoken", []),
    ("Contact", {"en": "What is your postcode?", "de": "Wie lautet Ihre Postleitzahl?"}, "typed", []),
    (
        "Account",
        {"en": "Why are you opening this account?", "de": "Warum eröffnen Sie dieses Konto?"},
        "choice",
        [
            {"en": "Everyday banking", "de": "Alltägliche Bankgeschäfte"},
            {"en": "Savings", "de": "Sparen"},
            {"en": "Business", "de": "Geschäftlich"},
        ],
    ),
    ("Account", {"en": "Who asked you to open this account?", "de": "Wer hat Sie gebeten, dieses Konto zu eröffnen?"}, "spoken", []),
]
DEMO_REGULATED_WORKFLOWS = [
    ("BaFin VideoIdent", regulations.BAFIN_VIDEOIDENT),
    ("RBI V-CIP", regulations.RBI_VCIP),
]


def regulated_demo_seed(*, business, operator) -> list[WorkflowTemplate]:
    """The regulated demo workflows, their question bank and the operator's
    training for both presets; run again, it leaves what is there."""
    for category, ask, answer, choices in DEMO_QUESTION_BANK:
        BankQuestion.objects.get_or_create(
            business=business, category=category, ask=ask, defaults={"answer": answer, "choices": choices}
        )
    workflows = []
    for name, preset in DEMO_REGULATED_WORKFLOWS:
        workflow, created = WorkflowTemplate.objects.get_or_create(
            business=business,
            name=name,
            defaults={
                "steps": DEMO_STEPS,
                "preset": preset,
                "rules": sorted(regulations.preset_rules(preset)),
                "recording_required": True,
            },
        )
        if created:
            workflow.full_clean()  # the preset's rules and what they need (a question bank)
        workflows.append(workflow)
        if not OperatorTraining.objects.filter(operator=operator, preset=preset).current(timezone.localdate()).exists():
            OperatorTraining.objects.create(operator=operator, preset=preset)
    return workflows


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
        # Minimum call conditions (rule CALL_CONDITIONS) the seeded sessions run under.
        parser.add_argument("--min-video-height", type=int, help="minimum video height (px)")
        parser.add_argument("--min-frame-rate", type=int, help="minimum frame rate (fps)")

    @transaction.atomic
    def handle(self, *args, **options):
        business, _ = Business.objects.get_or_create(
            slug=options["business"], defaults={"name": options["business"].replace("-", " ").title()}
        )
        workflow, _ = WorkflowTemplate.objects.get_or_create(
            business=business, name="Standard video identification", defaults={"steps": DEMO_STEPS}
        )
        password = options["password"] or secrets.token_urlsafe(12)
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=options["username"], defaults={"first_name": "Olivia"})
        user.set_password(password)
        user.is_active = True
        user.save()
        if not Operator.objects.filter(user=user).exists():
            operator_create(user=user, business=business, display_name="Olivia")
        # Before the workflow's rules: randomised questions need the question
        # bank to exist (WorkflowTemplate.rules_followable_check).
        regulated = regulated_demo_seed(business=business, operator=Operator.objects.get(user=user))
        if options["preset"] or options["rules"]:
            workflow.preset = options["preset"] or workflow.preset
            # As an admin saves it: the preset's rules on (they cannot be
            # switched off), with any rule named besides.
            chosen = {code for code in (options["rules"] or "").split(",") if code}
            workflow.rules = sorted(chosen | regulations.preset_rules(workflow.preset))
            workflow.recording_required = workflow.recording_required or regulations.RECORDING in workflow.rules
        if options["min_video_height"] is not None:
            workflow.min_video_height = options["min_video_height"]
        if options["min_frame_rate"] is not None:
            workflow.min_frame_rate = options["min_frame_rate"]
        workflow.full_clean()
        workflow.save()
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
        # A one-time code at the end is sent to each customer: under that rule
        # every participant needs an address (session_create refuses one without).
        contact = workflow.rule_set().has(regulations.TAN_AT_END)
        multi = session_create(
            business=business,
            workflow=workflow,
            kind=VerificationSession.Kind.MULTI_USER,
            participants=[
                ParticipantSpec(
                    name=names[i % len(names)],
                    business_reference=f"CUST-20{i:02d}",
                    email=f"schmidt-{i}@example.com" if contact else "",
                    phone=f"+4915100000{i:02d}" if contact else "",
                )
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
            "regulated_workflows": [workflow.name for workflow in regulated],
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        base = settings.PUBLIC_BASE_URL
        self.stdout.write(self.style.SUCCESS("Verity demo is ready."))
        self.stdout.write(f"  One-on-one customer link: {result['one_on_one']['links'][0]}")
        for number, link in enumerate(result["multi_user"]["links"], start=1):
            self.stdout.write(f"  Multi-user customer {number} link: {link}")
        self.stdout.write(f"  Regulated workflows (admin): {', '.join(workflow.name for workflow in regulated)}")
        self.stdout.write(f"  Operator console:   {base}/console/  sign in as {user.username} / {password}")
        self.stdout.write(f"  Compliance (admin): {base}/admin/  sign in as {reviewer.username} / {password}")
        if settings.STAFF_REQUIRE_SECOND_FACTOR:
            self.stdout.write("    (admin users set up an authenticator app at their first sign-in)")
