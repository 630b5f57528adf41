import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from kyc import regulations
from kyc.state_machine import StateMachine
from kyc.texts import text_for_language, validate_texts
from workflows.steps import (
    ANSWER_CHOICE,
    ANSWER_KINDS,
    DOCUMENT_KIND_LABELS,
    DOCUMENT_KINDS,
    QUESTIONS,
    STEP_KIND_LABELS,
    STEP_KINDS,
    TERMS,
    validate_question,
    validate_workflow_steps,
)


class WorkflowTemplateQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class WorkflowTemplate(models.Model):
    """An ordered list of steps a business wants every participant to go through.

    ``steps`` is a list of objects, each with a ``kind`` (see workflows.steps)
    and that kind's settings. A session copies the steps into StepState rows
    when it is created, so editing a template never changes a running call.

    Texts the customer reads (the terms step's ``terms_text``, each question) are given per
    language, ``{"en": "…", "de": "…"}``; the text in ``default_language``
    is required and is shown when the customer's language has none (a plain
    string is the default language's text; see kyc.texts).
    """

    business = models.ForeignKey("accounts.Business", on_delete=models.PROTECT, related_name="workflows", verbose_name=_("business"))
    name = models.CharField(_("name"), max_length=200)
    steps = models.JSONField(
        _("steps"),
        validators=[validate_workflow_steps],
        help_text=_(
            'A list of steps, each with a "kind". Texts the customer reads (the terms step\'s "terms_text", '
            'each of a questions step\'s "questions") are given per language, e.g. {"en": "…", "de": "…"}; '
            'the default language\'s text is required.'
        ),
    )
    default_language = models.CharField(
        _("default language"),
        max_length=16,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("Customers whose language the workflow's texts do not offer read them in this language."),
    )
    minimum_age = models.PositiveSmallIntegerField(_("minimum age"), default=18)
    face_match_threshold = models.FloatField(_("face match threshold"), default=0.5)
    recording_required = models.BooleanField(_("recording required"), default=False)
    # Regulated deployments (kyc.regulations): the preset's rules are on and
    # cannot be switched off; ``rules`` lists every rule that is on.
    preset = models.CharField(
        _("regulatory preset"), max_length=32, choices=regulations.PRESET_CHOICES, default=regulations.CUSTOM
    )
    rules = models.JSONField(_("rules"), default=list, blank=True)
    tan_channel = models.CharField(
        _("one-time code sent by"),
        max_length=8,
        choices=[("email", _("E-mail")), ("sms", _("SMS"))],
        default="email",
    )
    security_features_minimum = models.PositiveSmallIntegerField(
        _("security features to check"), default=3,
        help_text=_("How many security features, each from a different category, are chosen for each call."),
    )
    allowed_countries = models.JSONField(
        _("allowed countries"), default=list, blank=True,
        help_text=_('ISO 3166-1 alpha-2 codes, e.g. ["IN"]; empty allows every country.'),
    )
    questions_drawn = models.PositiveSmallIntegerField(
        _("questions drawn per call"), default=3,
        help_text=_("With randomised questions: how many questions are drawn from the question bank for each call."),
    )
    min_video_height = models.PositiveSmallIntegerField(_("minimum video height (px)"), default=480)
    min_frame_rate = models.PositiveSmallIntegerField(_("minimum frame rate (fps)"), default=15)
    max_packet_loss_percent = models.FloatField(_("maximum packet loss (%)"), default=5.0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = WorkflowTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["business", "name"]
        constraints = [models.UniqueConstraint(fields=["business", "name"], name="workflow_name_unique_per_business")]
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")

    def __str__(self):
        return self.name

    def clean(self):
        # The steps field's validator checks the shape; whether each text has
        # the default language's version needs the workflow's default, which
        # a field validator cannot see. A shape error is the field's to report.
        try:
            validate_workflow_steps(self.steps)
        except ValidationError:
            return
        try:
            validate_workflow_steps(self.steps, default_language=self.default_language)
        except ValidationError as error:
            raise ValidationError({"steps": error.messages}) from error
        self._clean_rules()

    def _clean_rules(self):
        unknown = sorted(set(self.rules or ()) - set(regulations.RULES))
        if unknown:
            raise ValidationError({"rules": gettext("Unknown rule %(rules)s.") % {"rules": ", ".join(unknown)}})
        missing = regulations.preset_rules(self.preset) - set(self.rules or ())
        if missing:
            raise ValidationError(
                {
                    "rules": gettext("The preset “%(preset)s” needs these rules on: %(rules)s.")
                    % {
                        "preset": regulations.PRESETS[self.preset].label,
                        "rules": ", ".join(str(regulations.RULES[code].label) for code in sorted(missing)),
                    }
                }
            )
        if regulations.RECORDING in (self.rules or ()) and not self.recording_required:
            raise ValidationError(
                {"recording_required": gettext("The rule “The call is recorded” needs the recording required.")}
            )
        if self.business_id is not None:
            self.rules_followable_check()

    def rules_followable_check(self) -> None:
        """Refuse a workflow whose sessions could not follow its rules: with
        randomised questions, a questions step to ask them in and a question
        bank to draw them from. session_create asks it too, so a call that
        cannot keep its rules is never made."""
        rule_set = self.rule_set()
        if not rule_set.has(regulations.RANDOMISED_QUESTIONS):
            return
        label = regulations.RULES[regulations.RANDOMISED_QUESTIONS].label
        if not any(step.get("kind") == QUESTIONS for step in self.steps or ()):
            raise ValidationError(
                {"steps": gettext("The rule “%(rule)s” needs a questions step to ask them in.") % {"rule": label}}
            )
        if not BankQuestion.objects.for_business(self.business_id).filter(active=True).exists():
            raise ValidationError(
                {
                    "rules": gettext(
                        "The rule “%(rule)s” draws questions from the business's question bank, which has no active "
                        "question yet: add some under Question bank first."
                    )
                    % {"rule": label}
                }
            )

    def rule_set(self) -> regulations.RuleSet:
        """The rules a session of this workflow runs under now (a session keeps
        its own snapshot of it: VerificationSession.rule_set)."""
        rules = set(self.rules or ()) | regulations.preset_rules(self.preset)
        if self.recording_required:
            rules.add(regulations.RECORDING)
        preset_settings = regulations.PRESETS[self.preset].settings
        return regulations.RuleSet(
            preset=self.preset,
            rules=frozenset(code for code in rules if code in regulations.RULES),
            settings={
                "tan_channel": self.tan_channel,
                # A preset's figure is a floor the workflow may raise, never lower.
                "security_features_minimum": max(
                    self.security_features_minimum, preset_settings.get("security_features_minimum", 0)
                ),
                # The preset's countries unless the workflow names its own.
                "allowed_countries": list(self.allowed_countries or preset_settings.get("allowed_countries", ())),
                "questions_drawn": self.questions_drawn,
                "min_video_height": self.min_video_height,
                "min_frame_rate": self.min_frame_rate,
                "max_packet_loss_percent": self.max_packet_loss_percent,
            },
        )

    def terms_step(self) -> dict | None:
        return next((step for step in self.steps if step["kind"] == TERMS), None)

    def terms_for(self, language: str | None) -> "TermsShown | None":
        """The terms a customer reading ``language`` is shown: the text in
        that language, else the default language's (``fallback``)."""
        step = self.terms_step()
        if step is None:
            return None
        chosen = text_for_language(
            step.get("terms_text", ""), language=language, default_language=self.default_language
        )
        return TermsShown(
            version=str(step.get("terms_version", "none")),
            text=chosen.text,
            language=chosen.language,
            fallback=chosen.fallback,
        )


@dataclass(frozen=True)
class TermsShown:
    version: str
    text: str
    language: str  # the language the text is written in, not the page's
    fallback: bool


class BankQuestionQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class BankQuestion(models.Model):
    """One question of a business's question bank: with the rule
    RANDOMISED_QUESTIONS, each participant's questions step asks questions
    drawn at random from it, spread across its categories
    (workflows.question_draw). A question has the shape of a questions step's
    question (workflows.steps.Question) and is copied into the step when
    drawn, so a later edit never changes what a call asked."""

    business = models.ForeignKey(
        "accounts.Business", on_delete=models.PROTECT, related_name="bank_questions", verbose_name=_("business")
    )
    category = models.CharField(
        _("category"), max_length=100, help_text=_("Questions are drawn from as many categories as possible.")
    )
    ask = models.JSONField(
        _("question"),
        help_text=_('The question\'s text, or texts by language, e.g. {"en": "…", "de": "…"}.'),
    )
    answer = models.CharField(
        _("answered"),
        max_length=8,
        choices=[("spoken", _("Spoken")), ("typed", _("Typed in the call")), ("choice", _("Chosen in the call"))],
        default="spoken",
    )
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_('Only for a question answered by choice: 2 to 10 choices, each a text or texts by language.'),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = BankQuestionQuerySet.as_manager()

    class Meta:
        ordering = ["business", "category", "pk"]
        verbose_name = _("bank question")
        verbose_name_plural = _("question bank")

    def __str__(self):
        ask = self.ask
        if isinstance(ask, dict):
            ask = next(iter(ask.values()), "")
        return f"{self.category}: {str(ask)[:80]}"

    def as_step_question(self) -> dict:
        """The question as a questions step's settings hold it."""
        question = {"ask": self.ask, "answer": self.answer}
        if self.answer == ANSWER_CHOICE:
            question["choices"] = list(self.choices or ())
        return question

    def clean(self):
        if self.answer not in ANSWER_KINDS:
            return  # the field's choices report it
        if self.answer != ANSWER_CHOICE and self.choices:
            raise ValidationError({"choices": gettext("Only a question answered by choice has choices.")})
        try:
            validate_question(self.as_step_question(), where=gettext("question"), default_language=None)
        except ValidationError as error:
            # The step validator names what is wrong; a choice's fault is the choices field's.
            field = "choices" if any("choice" in message for message in error.messages) else "ask"
            raise ValidationError({field: error.messages}) from error


class StepStateQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class StepState(models.Model):
    """One participant's progress on one step of their workflow."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_PROGRESS = "in_progress", _("In progress")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    MACHINE = StateMachine(
        "step",
        {
            State.PENDING: frozenset({State.IN_PROGRESS, State.PASSED, State.SKIPPED}),
            State.IN_PROGRESS: frozenset({State.PASSED, State.FAILED, State.SKIPPED, State.PENDING}),
            # A passed or failed step can be reopened: the operator retakes a
            # blurred capture, the customer repeats a liveness action.
            State.PASSED: frozenset({State.IN_PROGRESS}),
            State.FAILED: frozenset({State.IN_PROGRESS}),
            State.SKIPPED: frozenset({State.IN_PROGRESS}),
        },
    )

    participant = models.ForeignKey("sessions_app.Participant", on_delete=models.CASCADE, related_name="steps", verbose_name=_("participant"))
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=20, choices=[(k, STEP_KIND_LABELS[k]) for k in STEP_KINDS])
    config = models.JSONField(_("settings"), default=dict)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    data = models.JSONField(_("data"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = StepStateQuerySet.as_manager()

    class Meta:
        ordering = ["participant", "position"]
        constraints = [models.UniqueConstraint(fields=["participant", "position"], name="step_position_unique")]
        # A participant's step: the admin lists them as steps.
        verbose_name = _("step")
        verbose_name_plural = _("steps")

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_state_display()})"


class CaptureRequestQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class CaptureRequest(models.Model):
    """The operator asked for a still of one participant's camera.

    The customer's page fulfils it with a frame from the live camera track at
    full resolution; the operator's page adds the frame it received. Both
    arrive as Evidence pointing back here. A request is answered once per
    source; a retake is a new request.
    """

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey("sessions_app.Participant", on_delete=models.CASCADE, related_name="capture_requests")
    # None for an operator challenge: it belongs to no step of the workflow.
    step = models.ForeignKey(StepState, on_delete=models.CASCADE, related_name="capture_requests", null=True, blank=True)
    kind = models.CharField(max_length=20)  # an Evidence.Kind value
    label = models.CharField(max_length=64, blank=True)
    # A challenge's burst interrupts the instruction shown before it (a
    # liveness action, a question): kept here and shown again once the burst
    # is in, so the customer does not lose their place.
    resume_prompt = models.JSONField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    created_at = models.DateTimeField(auto_now_add=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    objects = CaptureRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("capture request")
        verbose_name_plural = _("capture requests")

    def __str__(self):
        return f"{self.kind} {self.label} ({self.state})"


class CheckResultQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class CheckResult(models.Model):
    """What one automated check saw in one piece of evidence.

    Written by the Celery task ``run_checks_for_evidence``, once per
    evidence, check kind and engine version: running the task again finds the
    row and stops, while a new engine version checks the same evidence anew
    and keeps the old result beside it. ``details`` holds the reasons (each
    with a code, a message and retake advice), what was measured and, for
    the MRZ, the fields read: personal data, erased with the evidence.
    """

    class Kind(models.TextChoices):
        MRZ = "mrz", _("Document MRZ")
        FACE_MATCH = "face_match", _("Face match")
        LIVENESS = "liveness", _("Liveness")
        QUALITY = "quality", _("Image quality")

    class Status(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        ERROR = "error", _("Error")

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    evidence = models.ForeignKey("sessions_app.Evidence", on_delete=models.CASCADE, related_name="check_results", verbose_name=_("capture"))
    participant = models.ForeignKey(
        "sessions_app.Participant", on_delete=models.CASCADE, related_name="check_results",
        verbose_name=_("participant"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    score = models.FloatField(_("score"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    engine = models.CharField(_("engine"), max_length=64)
    engine_version = models.CharField(_("engine version"), max_length=128)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CheckResultQuerySet.as_manager()

    class Meta:
        ordering = ["participant", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["evidence", "kind", "engine_version"], name="check_result_once_per_evidence_kind_version"
            )
        ]
        indexes = [models.Index(fields=["participant", "kind", "created_at"], name="check_result_participant_kind")]
        verbose_name = _("check result")
        verbose_name_plural = _("check results")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.get_status_display()}"

    @property
    def reasons(self) -> list[dict]:
        return self.details.get("reasons", [])


# --- document security features (kyc.regulations.SECURITY_FEATURES) ------------------


class SecurityFeatureQuerySet(models.QuerySet):
    def for_business(self, business):
        """The business's own entries (the product's default catalogue
        belongs to no business: ``available_to`` adds it)."""
        return self.filter(business=business)

    def available_to(self, business):
        """What a call of ``business`` may draw from: its own entries and the
        product's defaults."""
        return self.filter(models.Q(business=business) | models.Q(business__isnull=True))


class SecurityFeature(models.Model):
    """A security feature of one kind of identity document that an operator
    can check on camera while the customer tilts the document.

    ``business`` None is the product's default catalogue: read by every
    business, edited only by platform staff. A business's own entries are
    preferred over the defaults when features are drawn for a call."""

    class Category(models.TextChoices):
        # BaFin 3/2017 B.III.2: at least three features of different categories.
        OPTICALLY_VARIABLE = "optically_variable", _("Holograms and kinegrams")
        PERSONALISATION = "personalisation", _("Personalisation")
        MATERIAL = "material", _("Document material")
        SECURITY_PRINTING = "security_printing", _("Security printing")

    business = models.ForeignKey(
        "accounts.Business",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="security_features",
        verbose_name=_("business"),
        help_text=_("Empty: the product's default catalogue, used by every business."),
    )
    document_kind = models.CharField(
        _("document type"), max_length=20, choices=[(k, DOCUMENT_KIND_LABELS[k]) for k in DOCUMENT_KINDS]
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    # Texts by language, {"en": "…", "de": "…"} (kyc.texts).
    name = models.JSONField(_("name"), help_text=_('By language, e.g. {"en": "Kinegram", "de": "Kinegramm"}.'))
    instruction = models.JSONField(
        _("what to look for"), help_text=_("By language: what the operator should see while the document is tilted.")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SecurityFeatureQuerySet.as_manager()

    class Meta:
        ordering = ["document_kind", "category", "pk"]
        verbose_name = _("document security feature")
        verbose_name_plural = _("document security features")

    def clean(self):
        super().clean()
        for field in ("name", "instruction"):
            try:
                validate_texts(getattr(self, field), where=str(self._meta.get_field(field).verbose_name), default_language=None)
            except ValidationError as error:
                raise ValidationError({field: error.messages}) from None

    def text(self, field: str, language: str | None) -> str:
        return text_for_language(getattr(self, field), language=language, default_language=settings.LANGUAGE_CODE).text

    def __str__(self):
        return self.text("name", get_language())


class SecurityFeatureCheckQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class SecurityFeatureCheck(models.Model):
    """One security feature drawn for one participant's call, and the
    operator's tick: bound to the frame captured when they ticked and to the
    time in the call."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "sessions_app.Participant", on_delete=models.CASCADE, related_name="security_feature_checks"
    )
    # Protected: a feature checked in a call is part of its record; retire it with ``active``.
    feature = models.ForeignKey(SecurityFeature, on_delete=models.PROTECT, related_name="checks")
    document_kind = models.CharField(max_length=20)
    # The draw for the document the operator last said the customer holds.
    # A draw for another document is kept, not current, and comes back if
    # the operator switches back to it: a kind is drawn once per participant.
    current = models.BooleanField(default=True)
    category = models.CharField(max_length=20, choices=SecurityFeature.Category.choices)
    position = models.PositiveSmallIntegerField()
    chosen_at = models.DateTimeField()
    # The capture the tick asked for; its first frame is the evidence.
    capture = models.ForeignKey(
        CaptureRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="security_feature_checks"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        "accounts.Operator", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    evidence = models.ForeignKey(
        "sessions_app.Evidence", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Seconds since the operator answered the call: where to look in the recording.
    offset_seconds = models.FloatField(null=True, blank=True)

    objects = SecurityFeatureCheckQuerySet.as_manager()

    class Meta:
        ordering = ["participant", "position"]
        verbose_name = _("security feature check")
        verbose_name_plural = _("security feature checks")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "document_kind", "position"], name="security_feature_check_position_once"
            )
        ]

    @property
    def checked(self) -> bool:
        return self.checked_at is not None and self.evidence_id is not None
