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


# Checked against public copies of the texts (December 2026). Where the
# clause could not be confirmed the section says so rather than guess one:
# compliance should confirm it against the official text before relying on it.
UNCONFIRMED = "section not confirmed"
UNCONFIRMED_CLAUSE = "clause not confirmed"

BAFIN = "BaFin Rundschreiben 3/2017 (GW) – Videoidentifizierungsverfahren"
RBI = "RBI Master Direction – Know Your Customer (KYC) Direction, 2016 (as amended 10 May 2021), V-CIP"
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
                OPERATOR_TRAINING: Source(BAFIN, f"{UNCONFIRMED} (Mitarbeiter: Schulung mindestens einmal jährlich)"),
                RECORDING_CONSENT: Source(BAFIN, f"{UNCONFIRMED} (Einverständnis mit der Aufzeichnung)"),
                RECORDING: Source(BAFIN, f"{UNCONFIRMED} (Aufzeichnung und Aufbewahrung)"),
                CALL_CONDITIONS: Source(BAFIN, f"{UNCONFIRMED} (Bild- und Tonqualität; Abbruch, wenn nicht ausreichend)"),
                SECURITY_FEATURES: Source(BAFIN, f"{UNCONFIRMED} (optische Sicherheitsmerkmale: drei aus vier Kategorien)"),
                TAN_AT_END: Source(BAFIN, f"{UNCONFIRMED} (Abschluss durch Eingabe einer TAN)"),
            },
            settings={"security_features_minimum": 3},
        ),
        Preset(
            RBI_VCIP,
            _("RBI V-CIP (India)"),
            rules={
                OPERATOR_TRAINING: Source(RBI, f"Section 18, {UNCONFIRMED_CLAUSE} (V-CIP operated only by specially trained officials)"),
                RECORDING_CONSENT: Source(RBI, "Section 18(a)(ii) (customer consent recorded in an auditable, alteration-proof manner)"),
                RECORDING: Source(RBI, f"Section 18, {UNCONFIRMED_CLAUSE} (recordings stored securely in India, date and time stamped)"),
                LIVE_LOCATION: Source(RBI, "Section 18(a)(iv) (recordings contain the customer's live GPS co-ordinates, geo-tagging)"),
                ALLOWED_COUNTRIES: Source(RBI, "Section 18(a)(iii) (connections from IP addresses outside India prevented)"),
                RANDOMISED_QUESTIONS: Source(RBI, f"Section 18, {UNCONFIRMED_CLAUSE} (sequence and type of questions varied)"),
                CALL_CONDITIONS: Source(RBI, f"Section 18, {UNCONFIRMED_CLAUSE} (video quality adequate to identify the customer)"),
                FOUR_EYES_REVIEW: Source(RBI, f"Section 18, {UNCONFIRMED_CLAUSE} (account operational only after concurrent audit)"),
            },
            settings={"allowed_countries": ["IN"]},
        ),
        Preset(
            ETSI_119461_BASELINE,
            _("ETSI TS 119 461, baseline LoIP"),
            rules={
                OPERATOR_TRAINING: Source(ETSI, f"{UNCONFIRMED} (trained personnel)"),
                RECORDING_CONSENT: Source(ETSI, f"{UNCONFIRMED} (information to and consent of the applicant)"),
                RECORDING: Source(ETSI, f"{UNCONFIRMED} (video session recorded and kept as evidence)"),
                CALL_CONDITIONS: Source(ETSI, f"{UNCONFIRMED} (video and audio of sufficient quality)"),
            },
        ),
        Preset(
            ETSI_119461_EXTENDED,
            _("ETSI TS 119 461, extended LoIP"),
            rules={
                OPERATOR_TRAINING: Source(ETSI, f"{UNCONFIRMED} (trained personnel)"),
                RECORDING_CONSENT: Source(ETSI, f"{UNCONFIRMED} (information to and consent of the applicant)"),
                RECORDING: Source(ETSI, f"{UNCONFIRMED} (video session recorded and kept as evidence)"),
                CALL_CONDITIONS: Source(ETSI, f"{UNCONFIRMED} (video and audio of sufficient quality)"),
                SECURITY_FEATURES: Source(ETSI, f"{UNCONFIRMED} (security features of the document checked)"),
                FOUR_EYES_REVIEW: Source(ETSI, f"{UNCONFIRMED} (extended LoIP: result reviewed by a second person)"),
            },
            settings={"security_features_minimum": 3},
        ),
        Preset(
            NIST_IAL2_SUPERVISED,
            _("NIST 800-63A IAL2, supervised remote"),
            rules={
                OPERATOR_TRAINING: Source(NIST, "5.3.3.2 item 5 (operators trained to detect fraud and run the session)"),
                RECORDING: Source(NIST, "5.3.3.2 item 1 (entire session monitored, e.g. by continuous high-resolution video)"),
                CALL_CONDITIONS: Source(NIST, "5.3.3.2 item 1 (continuous high-resolution video of the applicant)"),
            },
        ),
    )
}
PRESET_CODES = tuple(PRESETS)
PRESET_CHOICES = [(preset.code, preset.label) for preset in PRESETS.values()]


def preset_rule_sources() -> list[tuple[Preset, Rule, Source]]:
    """Every preset × rule × source, in the presets' and rules' order: the
    table compliance reads in the admin and the README shows."""
    return [
        (preset, rule, preset.rules[rule.code])
        for preset in PRESETS.values()
        for rule in RULES.values()
        if rule.code in preset.rules
    ]


def preset_rules_markdown() -> str:
    """The preset × rule × source table as Markdown (README.md, "Regulated
    deployments"; tests/regulated/test_preset_admin.py keeps the two equal)."""
    lines = ["| Preset | Rule | Source | Section |", "| --- | --- | --- | --- |"]
    for preset, rule, source in preset_rule_sources():
        lines.append(f"| {preset.label} | {rule.label} | {source.document} | {source.section} |")
    return "\n".join(lines) + "\n"


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

    def record(self) -> dict:
        """The rule set as compliance reads it (the review page, the export):
        the preset and each rule with its label and, where the preset asks
        for it, its source. Labels in the active language."""
        preset = PRESETS.get(self.preset, PRESETS[CUSTOM])
        rules = []
        for rule in RULES.values():
            if rule.code not in self.rules:
                continue
            source = preset.rules.get(rule.code)
            rules.append(
                {
                    "code": rule.code,
                    "label": str(rule.label),
                    "source": source and {"document": source.document, "section": source.section},
                }
            )
        return {"preset": self.preset, "preset_label": str(preset.label), "rules": rules, "settings": self.settings}
