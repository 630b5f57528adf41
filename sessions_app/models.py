import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    business = models.ForeignKey("accounts.Business", on_delete=models.PROTECT, related_name="sessions")
    workflow = models.ForeignKey("workflows.WorkflowTemplate", on_delete=models.PROTECT, related_name="sessions")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ONE_ON_ONE)
    state = models.CharField(max_length=16, choices=State.choices, default=State.CREATED, db_index=True)
    operator = models.ForeignKey(
        "accounts.Operator", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    business_reference = models.CharField(max_length=200, blank=True)
    redirect_url = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    waiting_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    # Bumped on every change a client must see; a (re)connecting client compares
    # versions instead of trusting that every channel-layer message arrived.
    state_version = models.PositiveIntegerField(default=0)

    objects = VerificationSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["business", "state", "waiting_at"])]

    def __str__(self):
        return f"Session {self.public_id} ({self.state})"

    @property
    def call_duration(self):
        if not self.answered_at:
            return None
        return (self.ended_at or timezone.now()) - self.answered_at

    @property
    def is_ended(self) -> bool:
        return self.state in self.ENDED_STATES


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
            State.TERMS_ACCEPTED: frozenset({State.WAITING}),
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

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(VerificationSession, on_delete=models.PROTECT, related_name="participants")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    business_reference = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.INVITED)
    state_changed_at = models.DateTimeField(default=timezone.now)
    # Only the SHA-256 of the link token is stored: a database leak does not
    # leak working links.
    link_token_hash = models.CharField(max_length=64, unique=True)
    link_expires_at = models.DateTimeField()
    link_revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # What the customer's microphone and camera send, for the operator's
    # muted / camera-off indicators after a reconnect.
    media_state = models.JSONField(default=dict, blank=True)
    # The prompt the operator shows on this customer's screen, if any.
    current_prompt = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["session", "position"]

    def __str__(self):
        return f"{self.name} ({self.state})"


class TermsAcceptanceQuerySet(models.QuerySet):
    def for_business(self, business):
        return self.filter(participant__session__business=business)


class TermsAcceptance(models.Model):
    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="terms_acceptance")
    terms_version = models.CharField(max_length=64)
    # The language of the text the customer was shown and accepted (the
    # default language's when theirs had none); blank for acceptances
    # recorded before texts had languages, and for workflows without terms.
    terms_language = models.CharField(max_length=16, blank=True)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    objects = TermsAcceptanceQuerySet.as_manager()

    def __str__(self):
        language = f" ({self.terms_language})" if self.terms_language else ""
        return f"Terms {self.terms_version}{language} accepted {self.accepted_at:%Y-%m-%d %H:%M}"


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
        RECORDING = "recording", _("Recording")

    class Source(models.TextChoices):
        CUSTOMER_DEVICE = "customer_device", _("Customer's camera, full resolution")
        OPERATOR_VIEW = "operator_view", _("Frame the operator received")
        SERVER = "server", _("Made by the server")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(VerificationSession, on_delete=models.PROTECT, related_name="evidence")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="evidence", null=True)
    step = models.ForeignKey("workflows.StepState", on_delete=models.SET_NULL, null=True, blank=True)
    capture = models.ForeignKey(
        "workflows.CaptureRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="evidence"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    label = models.CharField(max_length=64, blank=True, help_text="e.g. the liveness action")
    # Liveness captures are short bursts of frames; 0 for a single still.
    frame_index = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(storage=evidence_storage, max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True, help_text="Recordings only.")
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["session", "created_at"]
        verbose_name_plural = "evidence"
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

    business = models.ForeignKey("accounts.Business", on_delete=models.PROTECT, related_name="audit_events")
    sequence = models.PositiveBigIntegerField()
    session = models.ForeignKey(
        VerificationSession, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # HMAC-SHA256 of the hash under a key kept outside the database
    # (settings.AUDIT_CHAIN_KEYS[key_id]): recomputing the hashes after an edit
    # does not recompute these. Empty on events written before keys existed.
    mac = models.CharField(max_length=64, blank=True, default="")
    key_id = models.CharField(max_length=64, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["business", "sequence"]
        constraints = [models.UniqueConstraint(fields=["business", "sequence"], name="audit_sequence_unique")]

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

    public_id = models.UUIDField(unique=True, editable=False, help_text="Chosen by the browser: a retried start is one segment.")
    session = models.ForeignKey(VerificationSession, on_delete=models.PROTECT, related_name="recordings")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="recordings"
    )
    stream = models.CharField(max_length=64)
    segment = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECORDING)
    mime_type = models.CharField(max_length=64)
    # Server time; the browser says how long before its request the recorder
    # started, so a retried request does not shift the segment on the clock.
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    chunk_count = models.PositiveIntegerField(null=True, blank=True, help_text="Announced when finished.")
    last_chunk_at = models.DateTimeField(null=True, blank=True)
    evidence = models.OneToOneField(
        Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="recording_segment"
    )
    # What assembly found: missing chunk numbers, checksum failures.
    verification = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RecordingQuerySet.as_manager()

    class Meta:
        ordering = ["session", "stream", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["session", "stream", "segment"], name="recording_segment_unique")
        ]

    def __str__(self):
        return f"Recording {self.stream} #{self.segment} ({self.state})"


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

    def __str__(self):
        return f"Chunk {self.index} of {self.recording_id}"
