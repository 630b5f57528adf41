"""The review page reads as a report for a person: steps, checks, audit
actions and outcomes by name, figures and details as labelled rows (never a
Python dict), every time absolute with its zone and, inside the call, its
offset from the call's start, a person's role said once.

``completed_call``: Max Mustermann went through Alpha Bank's whole workflow
with Alice, his captures were checked and Alice approved him; Carol
(``carol_browser``) reviews."""

import re
from datetime import datetime
from datetime import timezone as dt_timezone
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.services import operator_create
from operators.compliance.review_display import format_instant, operator_names_for, person_name
from operators.services import decision_record
from sessions_app.audit import Actor
from sessions_app.models import Evidence
from tests.checks import fakes
from tests.compliance.conftest import store_evidence
from tests.conftest import make_user
from workflows.models import StepState
from workflows.services import (
    notes_finish,
    notes_save,
    question_answer_record,
    step_complete_pre_call,
    step_finish,
    step_start,
)

STEP_CODES = ("device_check", "liveness", "questions", "notes", "terms", "document")
ACTION_CODES = ("session.created", "session.transition", "step.transition", "decision.recorded", "check.recorded")
ABSOLUTE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
ZONED_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (UTC|[A-Z]{3,5} \(UTC[+-]\d\d:\d\d\))")


@pytest.fixture
def completed_call(answered_call, operator_a):
    call, participant = answered_call, answered_call.participant
    for kind in ("terms", "device_check"):
        step_complete_pre_call(participant=participant, kind=kind, actor=Actor.customer())
    steps = {step.kind: step for step in participant.steps.all()}
    step_start(step=steps["document"], operator=operator_a)
    call.document = store_evidence(call, kind=Evidence.Kind.DOCUMENT_FRONT, colour=(10, 10, 200))
    call.face = store_evidence(call, kind=Evidence.Kind.FACE)
    step_finish(step=steps["document"], operator=operator_a, outcome="pass")
    step_start(step=steps["liveness"], operator=operator_a)
    step_finish(step=steps["liveness"], operator=operator_a, outcome="pass")
    step_start(step=steps["questions"], operator=operator_a)
    question_answer_record(step=steps["questions"], operator=operator_a, question=0, answer="17 May 1980")
    step_finish(step=steps["questions"], operator=operator_a, outcome="pass")
    notes_save(step=steps["notes"], operator=operator_a, text="Calm, good light.")
    fakes.store(call.document, fakes.mrz_passed())
    fakes.store(call.document, fakes.quality_passed())
    fakes.store(call.face, fakes.face_match_passed())
    decision_record(
        participant=participant, operator=operator_a, outcome="approve", reason_code="verified",
        comment="Passport matches.", override_confirmed=True,  # no liveness result: the advice said "Review"
    )
    notes_finish(participant=participant, actor=Actor.operator(operator_a))
    assert not participant.steps.exclude(state=StepState.State.PASSED).exists()
    return call


class _VisibleText(HTMLParser):
    """The text a reviewer reads: no markup, attributes, scripts or styles."""

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("script", "style", "svg", "head")

    def handle_endtag(self, tag):
        self._hidden -= tag in ("script", "style", "svg", "head")

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def review(browser, call) -> tuple[str, str]:
    page = browser.get(reverse("admin:sessions_app_verificationsession_review", args=[call.session.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    return html, visible_text(html)


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def test_steps_are_named_not_coded(completed_call, carol_browser):
    html, text = review(carol_browser, completed_call)
    steps = section(text, "Steps", "Automated checks")
    for name in ("Terms", "Device check", "Identity document", "Liveness", "Questions", "Notes"):
        assert name in steps, name
    for code in STEP_CODES:
        # A cell holding the code itself ("Identity document" holds the word, not the code).
        assert not re.search(rf"^{code}$", steps, re.M), f"the step code {code} shows"
    assert "What is your date of birth?" in steps and "17 May 1980" in steps
    assert "Calm, good light." in steps


def test_no_python_dict_or_json_blob_anywhere(completed_call, carol_browser):
    html, text = review(carol_browser, completed_call)
    for blob in ("{'", "{\"", "':", "[{", "True", "False", "None"):
        assert blob not in text, f"{blob!r} in what the reviewer reads"


def test_check_results_figures_are_labelled_rows(completed_call, carol_browser):
    html, text = review(carol_browser, completed_call)
    checks = section(text, "Automated checks", "Captures")
    assert "Face match" in checks and "Document MRZ" in checks and "Image quality" in checks
    assert re.search(r"Face distance\s+0\.12 \(threshold 0\.6; the faces match below it\)", checks)
    assert re.search(r"Document number\s+" + fakes.DOCUMENT_NUMBER, checks)
    assert re.search(r"OCR confidence\s+0\.97", checks)
    assert re.search(r"Sharpness\s+900", checks)
    assert re.search(r"Check digits › Document number\s+Yes", checks)
    for header in ("Check", "Capture", "Status", "Figures", "Engine", "Time"):
        assert f"<th scope=\"col\">{header}</th>" in html


def test_timeline_names_actions_outcomes_and_detail_keys(completed_call, carol_browser):
    html, text = review(carol_browser, completed_call)
    timeline = text[text.index("Timeline (audit trail)"):]
    for header in ("Time", "Since the call's start", "Who", "What", "Participant", "Details"):
        assert f"<th scope=\"col\">{header}</th>" in html
    for label in ("Session created", "Step state changed", "Decision recorded", "Automated check recorded"):
        assert label in timeline, label
    for code in ACTION_CODES:
        assert code not in timeline, f"the action code {code} shows"
    assert re.search(r"Outcome\s+Approved", timeline) and re.search(r"Reason\s+Identity verified", timeline)
    assert re.search(r"From\s+In progress\s+To\s+Passed", timeline)
    assert re.search(r"Kind\s+Device check", timeline)


def test_every_time_shows_its_zone_and_call_offsets_are_from_the_start(completed_call, carol_browser):
    html, text = review(carol_browser, completed_call)
    times = ABSOLUTE_TIME.findall(text)
    assert len(times) > 20
    assert len(ZONED_TIME.findall(text)) == len(times), "a time without its zone"
    assert not re.search(r"\d\d:\d\d:\d\d", ZONED_TIME.sub("", text)), "a clock time without its date and zone"
    assert re.search(r"\+00:\d\d", text[text.index("Timeline (audit trail)"):]), "in-call events show their offset"


def test_a_person_is_named_with_their_role_once(completed_call, carol_browser):
    html, text = review(carol_browser, completed_call)
    assert "Operator: Alice" in text
    assert not re.search(r"\((operator|Operator)\)\s*\((operator|Operator)\)", text)
    assert "Alice (alice)" not in text, "the user name only repeats the name"
    assert re.search(r"by Alice at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)


def test_a_configured_zone_is_named_with_its_offset_from_utc(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    winter = datetime(2026, 12, 6, 20, 14, 3, tzinfo=dt_timezone.utc)
    assert format_instant(winter) == "2026-12-06 21:14:03 CET (UTC+01:00)"
    settings.TIME_ZONE = "UTC"
    assert format_instant(winter) == "2026-12-06 20:14:03 UTC"


def test_a_user_name_that_repeats_the_role_is_left_out(business_a):
    """The demo's operator: display name Olivia, user name "operator"."""
    olivia = operator_create(user=make_user("operator"), business=business_a, display_name="Olivia")
    names = operator_names_for([olivia.user])
    assert person_name(olivia.user, operator_names=names) == "Olivia"
    bert = operator_create(user=make_user("b.meier"), business=business_a, display_name="Bert")
    assert person_name(bert.user, operator_names=operator_names_for([bert.user])) == "Bert (b.meier)"
