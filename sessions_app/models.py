import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kyc.state_machine import StateMachine
from kyc.storage import evidence_storage


class VerificationSessionQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class VerificationSession(models.Model):
    """One verification call, with one or more participants."""

    class Kind(models.TextChoices):
        ONE_ON_ONE = "one_on_one", _("One-on-one")
        MULTI_USER = "multi_user", _("Multi-user")

    class State(models.TextChoices):
        CREATED = "created", _("Created")
        WAITING = "waiting", _("Waiting for an operator")
        IN_CALL = "in_call", _("In call")
        COMPLETED = "completed", _("Completed")
        ABANDONED = "abandoned", _("Abandoned")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    MACHINE = StateMachine(
        "session",
        {
            State.CREATED: frozenset({State.WAITING, State.EXPIRED, State.CANCELLED}),
            # Back to created: every customer left the queue before an operator
            # answered; their links stay valid and they may join again.
            State.WAITING: frozenset(
                {State.CREATED, State.IN_CALL, State.ABANDONED, State.EXPIRED, State.CANCELLED}
            ),
            State.IN_CALL: frozenset({State.COMPLETED, State.ABANDONED, State.CANCELLED}),
            State.COMPLETED: frozenset(),
            State.ABANDONED: frozenset(),
            State.EXPIRED: frozenset(),
            State.CANCELLED: frozenset(),
        },
    )
    ENDED_STATES = frozenset({State.COMPLETED, State.ABANDONED, State.EXPIRED, State.CANCELLED})
    # The timestamp field each state writes when it is entered.
    STATE_TIMESTAMP_FIELDS = {
        State.WAITING: "waiting_at",
        State.IN_CALL: "answered_at",
        State.COMPLETED: "ended_at",
        State.ABANDONED: "ended_at",
        State.EXPIRED: "ended_at",
        State.CANCELLED: "ended_at",
    }

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    business = models.ForeignKey("accounts.Business", on_delete=models.PROTECT, related_name="sessions", verbose_name=_("business"))
    workflow = models.ForeignKey("workflows.WorkflowTemplate", on_delete=models.PROTECT, related_name="sessions", verbose_name=_("workflow"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ONE_ON_ONE)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.CREATED, db_index=True)
    operator = models.ForeignKey(
        "accounts.Operator", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions",
        verbose_name=_("operator"),
    )
    business_reference = models.CharField(_("business reference"), max_length=200, blank=True)
    redirect_url = models.URLField(_("redirect URL"), blank=True)
    # The regulatory preset and rules the session runs under, copied from its
    # workflow when it is created (kyc.regulations.RuleSet.of(session)).
    preset = models.CharField(_("regulatory preset"), max_length=32, default="custom", db_index=True)
    rule_set = models.JSONField(_("rule set"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    waiting_at = models.DateTimeField(_("waiting since"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    # Bumped on every change a client must see; a (re)connecting client compares
    # versions instead of trusting that every channel-layer message arrived.
    state_version = models.PositiveIntegerField(_("state version"), default=0)

    objects = VerificationSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["business", "state", "waiting_at"]),
            # The supervisor dashboard's period figures: a business's calls
            # that entered the queue between two dates, with what each figure
            # reads carried in the index (on PostgreSQL an index-only scan; on
            # SQLite a covering index), so a month of a million-session table
            # never reads the table's other rows.
            models.Index(
                fields=["business", "waiting_at", "answered_at", "ended_at", "state", "operator"],
                name="session_dashboard_period_idx",
            ),
        ]
        verbose_name = _("verification session")
        verbose_name_plural = _("verification sessions")

    def __str__(self):
        return gettext("Session %(id)s (%(state)s)") % {"id": self.public_id, "state": self.get_state_display()}

    @property
    def call_duration(self):
        if not self.answered_at:
            return None
        return (self.ended_at or timezone.now()) - self.answered_at

    @property
    def is_ended(self) -> bool:
        return self.state in self.ENDED_STATES


# E.164: a plus, the country code and the number, at most 15 digits.
phone_validator = RegexValidator(
    r"^\+[1-9][0-9]{6,14}$",
    _("Enter the phone number in international form, e.g. +4915112345678."),
    code="invalid_phone",
)


class ParticipantQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(session__business=business)


class Participant(models.Model):
    """One customer in a session: their own link, terms and workflow."""

    class State(models.TextChoices):
        INVITED = "invited", _("Invited")
        TERMS_ACCEPTED = "terms_accepted", _("Terms accepted")
        DECLINED = "declined", _("Declined the terms")
        WAITING = "waiting", _("Waiting")
        IN_CALL = "in_call", _("In call")
        LEFT = "left", _("Left")
        REMOVED = "removed", _("Removed")
        DECIDED = "decided", _("Decided")

    MACHINE = StateMachine(
        "participant",
        {
            State.INVITED: frozenset({State.TERMS_ACCEPTED, State.DECLINED}),
            # Declined after the terms: the consent to recording a regulated
            # workflow asks for on its own (services.participant_decline_recording).
            State.TERMS_ACCEPTED: frozenset({State.WAITING, State.DECLINED}),
            State.DECLINED: frozenset(),
            # Back to terms_accepted: the customer left the queue (closed the
            # tab) before anybody answered.
            State.WAITING: frozenset({State.TERMS_ACCEPTED, State.IN_CALL, State.LEFT, State.REMOVED}),
            State.IN_CALL: frozenset({State.LEFT, State.REMOVED, State.DECIDED}),
            # A customer who dropped may come back with their link.
            State.LEFT: frozenset({State.WAITING, State.IN_CALL, State.REMOVED}),
            State.REMOVED: frozenset(),
            State.DECIDED: frozenset(),
        },
    )

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(VerificationSession, on_delete=models.PROTECT, related_name="participants", verbose_name=_("session"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    # For a one-time code by SMS at the end of the call (kyc.regulations.TAN_AT_END).
    phone = models.CharField(_("phone number"), max_length=16, blank=True, validators=[phone_validator])
    business_reference = models.CharField(_("business reference"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.INVITED)
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    # Only the SHA-256 of the link token is stored: a database leak does not
    # leak working links.
    link_token_hash = models.CharField(_("link token hash"), max_length=64, unique=True)
    link_expires_at = models.DateTimeField(_("link expires at"))
    link_revoked_at = models.DateTimeField(_("link revoked at"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)
    # What the customer's microphone and camera send, for the operator's
    # muted / camera-off indicators after a reconnect.
    media_state = models.JSONField(_("camera and microphone"), default=dict, blank=True)
    # The prompt the operator shows on this customer's screen, if any.
    current_prompt = models.JSONField(_("current prompt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    # The participant of a new session this one's customer started after the
    # call was aborted for poor conditions (sessions_app.call_conditions):
    # one new try per abort, however often the button is pressed.
    retry_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="retried_as",
        verbose_name=_("new try of"),
    )

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["session", "position"]
        indexes = [
            # The supervisor dashboard's per-language figures read the first
            # participant's language of every call in a period: from the
            # index alone, not the participant's row.
            models.Index(fields=["session", "position", "language"], name="participant_first_language_idx"),
        ]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")

    def __str__(self):
        return f"{self.name} ({self.get_state_display()})"


class OneTimeCodeQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class OneTimeCode(models.Model):
    """A code the customer receives (e-mail or SMS) and types into the call
    before the operator may approve (kyc.regulations.TAN_AT_END). Only an
    HMAC of the code is kept (sessions_app.one_time_codes): a database leak
    does not tell anybody a code. A newer code replaces this one."""

    class State(models.TextChoices):
        SENT = "sent", _("Sent")
        CONFIRMED = "confirmed", _("Confirmed")
        EXPIRED = "expired", _("Expired")
        LOCKED = "locked", _("Locked after too many wrong entries")
        REPLACED = "replaced", _("Replaced by a newer code")

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="one_time_codes", verbose_name=_("participant")
    )
    channel = models.CharField(_("sent by"), max_length=8, choices=[("email", _("E-mail")), ("sms", _("SMS"))])
    sent_to = models.CharField(_("sent to (masked)"), max_length=254)
    salt = models.CharField(_("salt"), max_length=32)
    code_hash = models.CharField(_("code hash"), max_length=64)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.SENT)
    attempts = models.PositiveSmallIntegerField(_("wrong entries"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # Set by the delivery task (e-mail or SMS, after the commit): a task that
    # runs twice sends once; a failed delivery says why on the operator's panel.
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivery_problem = models.CharField(_("delivery problem"), max_length=300, blank=True)

    objects = OneTimeCodeQuerySet.as_manager()

    class Meta:
        ordering = ["participant", "-created_at", "-pk"]
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")

    def __str__(self):
        return f"{self.sent_to} ({self.get_state_display()})"


class TermsAcceptanceQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class TermsAcceptance(models.Model):
    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="terms_acceptance", verbose_name=_("participant"))
    terms_version = models.CharField(_("terms version"), max_length=64)
    # The language of the text the customer was shown and accepted (the
    # default language's when theirs had none); blank for acceptances
    # recorded before texts had languages, and for workflows without terms.
    terms_language = models.CharField(_("language of the terms text"), max_length=16, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser (user agent)"), max_length=512, blank=True)

    objects = TermsAcceptanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("terms acceptance")
        verbose_name_plural = _("terms acceptances")

    def __str__(self):
        language = f" ({self.terms_language})" if self.terms_language else ""
        return gettext("Terms %(version)s accepted %(at)s") % {
            "version": f"{self.terms_version}{language}",
            "at": f"{self.accepted_at:%Y-%m-%d %H:%M}",
        }


class RecordingConsentQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class RecordingConsent(models.Model):
    """The customer's answer, on its own and after the terms, to "this call is
    recorded" (the RECORDING_CONSENT rule): which text, in which language,
    when and from where. A refusal is kept too: it is why no call took place."""

    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="recording_consent", verbose_name=_("participant")
    )
    accepted = models.BooleanField(_("accepted"))
    # sessions_app.precall.RECORDING_CONSENT_VERSION: a new wording is a new version.
    text_version = models.CharField(_("text version"), max_length=32)
    text_language = models.CharField(_("language of the text"), max_length=16, blank=True)
    decided_at = models.DateTimeField(_("answered at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser (user agent)"), max_length=512, blank=True)

    objects = RecordingConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent to recording")
        verbose_name_plural = _("consents to recording")

    def __str__(self):
        return f"{self.text_version} ({self.text_language}) {'accepted' if self.accepted else 'declined'}"


class ParticipantLocationQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class ParticipantLocation(models.Model):
    """A live position the customer's browser shared (the LIVE_LOCATION rule),
    with the countries of it and of the address it came from. The newest one
    is the call's; earlier ones stay as the record."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="locations", verbose_name=_("participant")
    )
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    accuracy_m = models.FloatField(_("accuracy (metres)"))
    # The browser's time of the position (its clock, not ours).
    located_at = models.DateTimeField(_("located at (browser's time)"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # ISO 3166 alpha-2, blank when unknown (a private network, the sea).
    ip_country = models.CharField(_("country of the IP address"), max_length=2, blank=True)
    location_country = models.CharField(_("country of the location"), max_length=2, blank=True)

    objects = ParticipantLocationQuerySet.as_manager()

    class Meta:
        ordering = ["participant", "-received_at"]
        indexes = [models.Index(fields=["participant", "-received_at"], name="participant_location_newest")]
        verbose_name = _("live location")
        verbose_name_plural = _("live locations")

    def __str__(self):
        return f"{self.latitude:.5f}, {self.longitude:.5f} ±{self.accuracy_m:.0f} m"


class EvidenceQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(session__business=business)


class Evidence(models.Model):
    """A captured image or recording, stored outside any served folder."""

    class Kind(models.TextChoices):
        DOCUMENT_FRONT = "document_front", _("Document, front")
        DOCUMENT_BACK = "document_back", _("Document, back")
        FACE = "face", _("Face")
        LIVENESS_FRAME = "liveness_frame", _("Liveness frame")
        # A frame of an operator challenge's burst (workflows.challenges); the label is its code.
        CHALLENGE_FRAME = "challenge_frame", _("Challenge frame")
        # The still taken when the operator ticked a document security feature
        # (workflows.SecurityFeatureCheck); the label is the check's id.
        SECURITY_FEATURE = "security_feature", _("Security feature frame")
        RECORDING = "recording", _("Recording")

    class Source(models.TextChoices):
        CUSTOMER_DEVICE = "customer_device", _("Customer's camera, full resolution")
        OPERATOR_VIEW = "operator_view", _("Frame the operator received")
        SERVER = "server", _("Made by the server")

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(VerificationSession, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("session"))
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="evidence", null=True, verbose_name=_("participant"))
    step = models.ForeignKey("workflows.StepState", on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("step"))
    capture = models.ForeignKey(
        "workflows.CaptureRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="evidence",
        verbose_name=_("capture request"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    label = models.CharField(_("label"), max_length=64, blank=True, help_text=_("e.g. the liveness action"))
    # Liveness captures are short bursts of frames; 0 for a single still.
    frame_index = models.PositiveSmallIntegerField(_("frame number"), default=0)
    file = models.FileField(_("file"), storage=evidence_storage, max_length=255)
    content_type = models.CharField(_("content type"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (seconds)"), null=True, blank=True, help_text=_("Recordings only."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["session", "created_at"]
        # "evidence" is both the one and the many in English, not in German.
        verbose_name = pgettext_lazy("one piece of", "evidence")
        verbose_name_plural = pgettext_lazy("pieces of", "evidence")
        constraints = [
            # A capture is answered once per source: a retried upload is not stored twice.
            models.UniqueConstraint(
                fields=["capture", "source", "frame_index"], name="evidence_once_per_capture_source_frame"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.sha256[:12]}"


class AuditChainQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class AuditChain(models.Model):
    """The head of one business's audit chain. Appends lock this row, so two
    writers can never both extend the same predecessor."""

    business = models.OneToOneField("accounts.Business", on_delete=models.PROTECT, related_name="audit_chain")
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    objects = AuditChainQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit chain")
        verbose_name_plural = _("audit chains")


class AuditEventQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(business=business)


class AuditEvent(models.Model):
    """Append-only record of every state change and operator action.

    Each row carries the hash of the previous row of its business and a MAC
    of its own hash with a key outside the database, so a row edited or
    deleted afterwards breaks the chain even if every later hash is
    recomputed (``manage.py audit_verify``).
    Rows hold ids and codes, never personal data, so erasing personal data
    under retention leaves the chain intact.
    """

    class ActorKind(models.TextChoices):
        SYSTEM = "system", _("System")
        CUSTOMER = "customer", _("Customer")
        OPERATOR = "operator", _("Operator")
        STAFF = "staff", _("Staff")
        API = "api", _("Business API")

    business = models.ForeignKey("accounts.Business", on_delete=models.PROTECT, related_name="audit_events", verbose_name=_("business"))
    sequence = models.PositiveBigIntegerField(_("sequence number"))
    session = models.ForeignKey(
        VerificationSession, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events",
        verbose_name=_("session"),
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events",
        verbose_name=_("participant"),
    )
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("actor user"))
    action = models.CharField(_("action"), max_length=64, db_index=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    # HMAC-SHA256 of the hash under a key kept outside the database
    # (settings.AUDIT_CHAIN_KEYS[key_id]): recomputing the hashes after an edit
    # does not recompute these. Empty on events written before keys existed.
    mac = models.CharField(_("MAC"), max_length=64, blank=True, default="")
    key_id = models.CharField(_("key ID"), max_length=64, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["business", "sequence"]
        constraints = [models.UniqueConstraint(fields=["business", "sequence"], name="audit_sequence_unique")]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return f"#{self.sequence} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")


class RecordingQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(session__business=business)


class Recording(models.Model):
    """One segment of one stream the operator's browser recorded: a
    participant's received stream (``stream`` is their peer id) or the
    operator's own ("operator"). A page that went away (a crash, a reload)
    leaves its segments interrupted; the page that comes back starts the
    next segment of each stream. After the call the chunks of a segment are
    assembled into one Evidence file and the chunk files deleted."""

    class State(models.TextChoices):
        RECORDING = "recording", _("Recording")
        FINISHED = "finished", _("Finished")
        INTERRUPTED = "interrupted", _("Interrupted")

    OPERATOR_STREAM = "operator"

    public_id = models.UUIDField(_("public ID"), unique=True, editable=False, help_text=_("Chosen by the browser: a retried start is one segment."))
    session = models.ForeignKey(VerificationSession, on_delete=models.PROTECT, related_name="recordings", verbose_name=_("session"))
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="recordings",
        verbose_name=_("participant"),
    )
    stream = models.CharField(_("stream"), max_length=64)
    segment = models.PositiveIntegerField(_("segment"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.RECORDING)
    mime_type = models.CharField(_("MIME type"), max_length=64)
    # Server time; the browser says how long before its request the recorder
    # started, so a retried request does not shift the segment on the clock.
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    chunk_count = models.PositiveIntegerField(_("number of chunks"), null=True, blank=True, help_text=_("Announced when finished."))
    last_chunk_at = models.DateTimeField(_("last chunk at"), null=True, blank=True)
    evidence = models.OneToOneField(
        Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="recording_segment",
        verbose_name=_("recording file"),
    )
    # What assembly found: missing chunk numbers, checksum failures.
    verification = models.JSONField(_("verification"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RecordingQuerySet.as_manager()

    class Meta:
        ordering = ["session", "stream", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["session", "stream", "segment"], name="recording_segment_unique")
        ]
        # One row is one segment of one stream; the whole call is an Evidence.
        verbose_name = _("recording segment")
        verbose_name_plural = _("recording segments")

    def __str__(self):
        return gettext("Recording %(stream)s #%(segment)s (%(state)s)") % {
            "stream": self.stream,
            "segment": self.segment,
            "state": self.get_state_display(),
        }


class RecordingChunkQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(recording__session__business=business)


class RecordingChunk(models.Model):
    """A numbered piece of a segment, as the browser produced it. Stored once
    per number: a retry with the same bytes is a no-op, different bytes are
    refused."""

    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="chunks")
    index = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    # Emptied once the segment is assembled (the bytes live on in its file).
    file = models.FileField(storage=evidence_storage, max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RecordingChunkQuerySet.as_manager()

    class Meta:
        ordering = ["recording", "index"]
        constraints = [models.UniqueConstraint(fields=["recording", "index"], name="recording_chunk_once")]
        verbose_name = _("recording chunk")
        verbose_name_plural = _("recording chunks")

    def __str__(self):
        return f"Chunk {self.index} of {self.recording_id}"


class CaptureSignalQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class CaptureSignal(models.Model):
    """One warning sign about a participant's camera (sessions_app/integrity.py
    holds the codes, their meaning and weight). One row per participant, code
    and phase: a repeat counts up and moves ``last_seen_at``."""

    class Phase(models.TextChoices):
        PRECALL = "precall", _("Device check")
        CALL = "call", _("Call")
        SERVER = "server", _("Server check")

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="capture_signals", verbose_name=_("participant")
    )
    code = models.CharField(_("code"), max_length=32)
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices)
    weight = models.PositiveSmallIntegerField(_("weight"))
    # Bounded by the report's schema (integrity.py): classified kinds and
    # figures only, never a camera's own label.
    params = models.JSONField(_("details"), default=dict, blank=True)
    first_seen_at = models.DateTimeField(_("first seen at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)
    count = models.PositiveIntegerField(_("count"), default=1)

    objects = CaptureSignalQuerySet.as_manager()

    class Meta:
        ordering = ["participant", "first_seen_at", "pk"]
        verbose_name = _("capture signal")
        verbose_name_plural = _("capture signals")
        constraints = [
            models.UniqueConstraint(fields=["participant", "code", "phase"], name="capture_signal_once_per_phase")
        ]

    def __str__(self):
        return f"{self.code} ({self.phase})"


class BookingQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(session__business=business)

    def active(self):
        return self.filter(state=Booking.State.BOOKED)


class Booking(models.Model):
    """A booked time for a session's call (sessions_app.scheduling): the
    customer (or the business through the API) picked a free slot; at that
    time the call rings the booked operator first.

    One row per session: rescheduling moves it (same calendar UID, SEQUENCE
    bumped, so the customer's calendar updates the event instead of adding a
    second one); a cancelled booking may be booked again, under a new UID."""

    class State(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    session = models.OneToOneField(VerificationSession, on_delete=models.PROTECT, related_name="booking", verbose_name=_("session"))
    operator = models.ForeignKey(
        "accounts.Operator", null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings",
        verbose_name=_("booked operator"),
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.BOOKED)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    # The zone the customer's browser was in when they booked: their e-mails
    # and their page show the time in it.
    customer_time_zone = models.CharField(_("customer's time zone"), max_length=64, blank=True)
    # The calendar event's identity (RFC 5545 UID) and revision (SEQUENCE).
    ical_uid = models.CharField(_("calendar UID"), max_length=100, unique=True)
    sequence = models.PositiveIntegerField(_("calendar sequence"), default=0)
    # The sequence whose e-mail went out: one e-mail per change, even when
    # its task runs twice.
    notified_sequence = models.IntegerField(_("e-mailed sequence"), default=-1)
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("recorded as no-show at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["state", "starts_at"])]
        verbose_name = _("booked call")
        verbose_name_plural = _("booked calls")

    def __str__(self):
        return gettext("Booked call %(at)s (%(state)s)") % {
            "at": f"{self.starts_at:%Y-%m-%d %H:%M} UTC",
            "state": self.get_state_display(),
        }

    @property
    def is_active(self) -> bool:
        return self.state == self.State.BOOKED
