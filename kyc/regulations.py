"""The rules a regulated deployment switches on together, and the presets that name them.

A workflow chooses a preset (``WorkflowTemplate.preset``); the preset's rules
are on and cannot be switched off, and a ``custom`` workflow picks its own. A
session copies the rule set it runs under when it is created
(``VerificationSession.rule_set``: a plain snapshot, so a later edit of the
workflow never changes the rules of a call already made), and every part of the
product asks that snapshot: ``RuleSet.of(session).has(TAN_AT_END)``.

This module is plumbing below every app: each app reads the rule codes and the
snapshot from here without importing a higher floor.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

# --- rules --------------------------------------------------------------------

RECORDING = "recording"
RECORDING_CONSENT = "recording_consent"
TAN_AT_END = "tan_at_end"
SECURITY_FEATURES = "security_features"
FOUR_EYES_REVIEW = "four_eyes_review"
LIVE_LOCATION = "live_location"
ALLOWED_COUNTRIES = "allowed_countries"
RANDOMISED_QUESTIONS = "randomised_questions"
CALL_CONDITIONS = "call_conditions"
OPERATOR_TRAINING = "operator_training"


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    description: str


RULES = {
    rule.code: rule
    for rule in (
        Rule(RECORDING, _("The call is recorded"), _("No approval without the composed recording of the call.")),
        Rule(
            RECORDING_CONSENT,
            _("Consent to recording"),
            _("Before the call the customer accepts, on its own, that the call is recorded; the acceptance is kept."),
        ),
        Rule(
            TAN_AT_END,
            _("One-time code at the end"),
            _("Before approval the customer receives a one-time code (e-mail or SMS) and enters it in the call."),
        ),
        Rule(
            SECURITY_FEATURES,
            _("Document security features"),
            _(
                "Security features of the document, chosen at random for each call from different categories, "
                "are checked while the customer tilts it; each tick is bound to a captured frame."
            ),
        ),
        Rule(
            FOUR_EYES_REVIEW,
            _("Four-eyes review"),
            _("An approval is provisional until a second staff member confirms or overturns it."),
        ),
        Rule(
            LIVE_LOCATION,
            _("Live location"),
            _("The customer consents to share their live location; it is stored with the call and shown in the recording."),
        ),
        Rule(
            ALLOWED_COUNTRIES,
            _("Allowed countries"),
            _("The customer's IP address and live location must be in one of the workflow's allowed countries."),
        ),
        Rule(
            RANDOMISED_QUESTIONS,
            _("Randomised questions"),
            _("Questions are drawn for each call from a question bank, in random order; what was asked and answered is kept."),
        ),
        Rule(
            CALL_CONDITIONS,
            _("Minimum call conditions"),
            _("The operator sees whether video quality and connection meet the minimum and must abort when they do not."),
        ),
        Rule(
            OPERATOR_TRAINING,
            _("Trained operators"),
            _("Only operators with a current training attestation for the preset are offered its calls."),
        ),
    )
}
RULE_CODES = tuple(RULES)


# --- presets ------------------------------------------------------------------

CUSTOM = "custom"
BAFIN_VIDEOIDENT = "bafin_videoident"
RBI_VCIP = "rbi_vcip"
ETSI_119461_BASELINE = "etsi_119461_baseline"
ETSI_119461_EXTENDED = "etsi_119461_extended"
NIST_IAL2_SUPERVISED = "nist_ial2_supervised"


@dataclass(frozen=True)
class Source:
    document: str
    section: str


@dataclass(frozen=True)
class Preset:
    code: str
    label: str
    # rule code -> where the regulation asks for it
    rules: dict = field(default_factory=dict)
    # Settings the preset fixes or defaults (see PRESET_SETTINGS).
    settings: dict = field(default_factory=dict)


BAFIN = "BaFin Rundschreiben 3/2017 (GW) – Videoidentifizierungsverfahren"
RBI = "RBI Master Direction – Know Your Customer (KYC) Direction, 2016 (as amended), V-CIP"
ETSI = "ETSI TS 119 461 V1.1.1 (2021-07) – identity proofing of trust service subjects"
NIST = "NIST SP 800-63A-3 – Enrollment and Identity Proofing"

PRESETS = {
    preset.code: preset
    for preset in (
        Preset(CUSTOM, _("Custom (rules chosen one by one)")),
        Preset(
            BAFIN_VIDEOIDENT,
            _("BaFin VideoIdent (Germany)"),
            rules={
                OPERATOR_TRAINING: Source(BAFIN, "B.I.1 (Mitarbeiter, Schulung)"),
                RECORDING_CONSENT: Source(BAFIN, "B.II (Einwilligung in die Aufzeichnung)"),
                RECORDING: Source(BAFIN, "B.V (Aufzeichnung und Aufbewahrung)"),
                CALL_CONDITIONS: Source(BAFIN, "B.III.1 (Bild- und Tonqualität)"),
                SECURITY_FEATURES: Source(BAFIN, "B.III.2 (Prüfung optischer Sicherheitsmerkmale)"),
                TAN_AT_END: Source(BAFIN, "B.III.5 (Abschluss durch TAN)"),
            },
            settings={"security_features_minimum": 3},
        ),
        Preset(
            RBI_VCIP,
            _("RBI V-CIP (India)"),
            rules={
                OPERATOR_TRAINING: Source(RBI, "Section 18(a)(iv) (specifically trained official)"),
                RECORDING_CONSENT: Source(RBI, "Section 18(b)(i) (informed consent of the customer)"),
                RECORDING: Source(RBI, "Section 18(c)(i) (recording stored, date and time stamped)"),
                LIVE_LOCATION: Source(RBI, "Section 18(b)(iii) (live GPS co-ordinates, geo-tagging)"),
                ALLOWED_COUNTRIES: Source(RBI, "Section 18(b)(iii) (customer physically present in India)"),
                RANDOMISED_QUESTIONS: Source(RBI, "Section 18(b)(ii) (sequence and type of questions varied)"),
                CALL_CONDITIONS: Source(RBI, "Section 18(a)(vii) (quality of the communication adequate)"),
                FOUR_EYES_REVIEW: Source(RBI, "Section 18(b)(x) (concurrent audit before the account is operational)"),
            },
            settings={"allowed_countries": ["IN"]},
        ),
        Preset(
            ETSI_119461_BASELINE,
            _("ETSI TS 119 461, baseline LoIP"),
            rules={
                OPERATOR_TRAINING: Source(ETSI, "OVR-5.2 (trained personnel)"),
                RECORDING_CONSENT: Source(ETSI, "OVR-6.2 (information to and consent of the applicant)"),
                RECORDING: Source(ETSI, "VID-9.2.3 (session recorded and retained as evidence)"),
                CALL_CONDITIONS: Source(ETSI, "VID-9.2.3 (video and audio of sufficient quality)"),
            },
        ),
        Preset(
            ETSI_119461_EXTENDED,
            _("ETSI TS 119 461, extended LoIP"),
            rules={
                OPERATOR_TRAINING: Source(ETSI, "OVR-5.2 (trained personnel)"),
                RECORDING_CONSENT: Source(ETSI, "OVR-6.2 (information to and consent of the applicant)"),
                RECORDING: Source(ETSI, "VID-9.2.3 (session recorded and retained as evidence)"),
                CALL_CONDITIONS: Source(ETSI, "VID-9.2.3 (video and audio of sufficient quality)"),
                SECURITY_FEATURES: Source(ETSI, "VAL-8.3 (security features of the document checked)"),
                FOUR_EYES_REVIEW: Source(ETSI, "VID-9.2.3 (extended: result reviewed by a second person)"),
            },
            settings={"security_features_minimum": 3},
        ),
        Preset(
            NIST_IAL2_SUPERVISED,
            _("NIST 800-63A IAL2, supervised remote"),
            rules={
                OPERATOR_TRAINING: Source(NIST, "5.3.3.2 item 5 (operator trained to detect fraud)"),
                RECORDING: Source(NIST, "5.3.3.2 item 2 (session monitored by continuous high-resolution video)"),
                CALL_CONDITIONS: Source(NIST, "5.3.3.2 item 2 (high-resolution video, continuous)"),
            },
        ),
    )
}
PRESET_CODES = tuple(PRESETS)
PRESET_CHOICES = [(preset.code, preset.label) for preset in PRESETS.values()]


def preset_rules(preset_code: str) -> frozenset:
    """The rules ``preset_code`` switches on (and a workflow of it may not switch off)."""
    return frozenset(PRESETS[preset_code].rules)


# --- a session's snapshot -----------------------------------------------------


@dataclass(frozen=True)
class RuleSet:
    """The rules one session runs under: read from its snapshot, never from its
    workflow (which may have changed since)."""

    preset: str = CUSTOM
    rules: frozenset = frozenset()
    settings: dict = field(default_factory=dict)

    @classmethod
    def of(cls, session) -> "RuleSet":
        return cls.from_snapshot(getattr(session, "rule_set", None) or {})

    @classmethod
    def from_snapshot(cls, snapshot: dict) -> "RuleSet":
        return cls(
            preset=snapshot.get("preset", CUSTOM),
            rules=frozenset(code for code in snapshot.get("rules", ()) if code in RULES),
            settings=dict(snapshot.get("settings") or {}),
        )

    def has(self, rule_code: str) -> bool:
        if rule_code not in RULES:
            raise KeyError(f"Unknown rule {rule_code!r}")
        return rule_code in self.rules

    def setting(self, name: str, default=None):
        return self.settings.get(name, default)

    def snapshot(self) -> dict:
        return {"preset": self.preset, "rules": sorted(self.rules), "settings": self.settings}
