"""The integration API's endpoints. Thin: parse, find the business's own
object (another business's is 404, never 403: its existence is not ours to
confirm), call one service, answer."""

from django.db.models import Prefetch, Q
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kyc.ids import uuid_or_none
from operators import integration
from operators.api.pagination import SessionCursorPagination
from operators.api.problems import PROBLEM_CONTENT_TYPE, Problem
from operators.serializers import (
    ParticipantLinkSentSerializer,
    ParticipantSerializer,
    ProblemSerializer,
    SessionCreatedSerializer,
    SessionCreateSerializer,
    SessionListFilterSerializer,
    SessionSerializer,
    SlotListSerializer,
)
from sessions_app.scheduling import business_zone, free_slots
from sessions_app.audit import Actor
from sessions_app.models import Participant, VerificationSession
from sessions_app.services import (
    ParticipantSpec,
    participant_link_revoke,
    session_cancel,
)

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 255



def _problems(*codes: int) -> dict:
    """Schema of the error answers: a JSON problem, served as application/problem+json."""
    response = OpenApiResponse(ProblemSerializer, description="A JSON problem.")
    return {(code, PROBLEM_CONTENT_TYPE): response for code in codes}


SessionPageSerializer = inline_serializer(
    "SessionPage",
    fields={
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": SessionSerializer(many=True),
    },
)


def _sessions(business):
    participants = Participant.objects.select_related("decision__review").prefetch_related("steps").order_by("position")
    return (
        VerificationSession.objects.for_business(business)
        .select_related("workflow", "booking")
        .prefetch_related(Prefetch("participants", queryset=participants))
    )


def _session_or_404(business, session_id: str) -> VerificationSession:
    public_id = uuid_or_none(session_id)
    session = _sessions(business).filter(public_id=public_id).first() if public_id else None
    if session is None:
        raise NotFound("No such session.")
    return session


def _participant_or_404(session: VerificationSession, participant_id: str) -> Participant:
    public_id = uuid_or_none(participant_id)
    participant = next((p for p in session.participants.all() if p.public_id == public_id), None)
    if participant is None:
        raise NotFound("No such participant in this session.")
    participant.session = session
    return participant


def _session_ended_problem(session) -> Problem:
    return Problem(
        status_code=status.HTTP_409_CONFLICT,
        code="session_ended",
        title="The session has ended.",
        detail=f"The session is {session.state}.",
    )


class SessionListCreateView(APIView):
    @extend_schema(
        operation_id="sessions_list",
        summary="List sessions",
        parameters=[SessionListFilterSerializer],
        responses={200: SessionPageSerializer, **_problems(400, 401)},
    )
    def get(self, request):
        filters = SessionListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        sessions = _sessions(request.user.business)
        if "state" in values:
            sessions = sessions.filter(state=values["state"])
        if "created_after" in values:
            sessions = sessions.filter(created_at__gte=values["created_after"])
        if "created_before" in values:
            sessions = sessions.filter(created_at__lt=values["created_before"])
        if "business_reference" in values:
            reference = values["business_reference"]
            matching = VerificationSession.objects.filter(
                Q(business_reference=reference) | Q(participants__business_reference=reference)
            ).values("pk")
            sessions = sessions.filter(pk__in=matching)
        paginator = SessionCursorPagination()
        page = paginator.paginate_queryset(sessions, request, view=self)
        return paginator.get_paginated_response(SessionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="sessions_create",
        summary="Create a session",
        description=(
            "Creates the session and one link per participant, valid until `link_expires_at`. "
            "Each link is shown in this answer only (Verity keeps only its hash). "
            "With `send_links`, each participant also gets their link by e-mail. "
            "Send an `Idempotency-Key` to make retries safe: the same key with the same body answers "
            "the first answer again (header `Idempotent-Replayed: true`), with another body 409."
        ),
        request=SessionCreateSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Any unique string up to 255 characters, e.g. a UUID. Remembered for 24 hours.",
            )
        ],
        responses={201: SessionCreatedSerializer, **_problems(400, 401, 409)},
    )
    def post(self, request):
        business = request.user.business
        key = request.headers.get(IDEMPOTENCY_KEY_HEADER)

        def create():
            serializer = SessionCreateSerializer(data=request.data, context={"business": business})
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            created = integration.api_session_create(
                business=business,
                workflow=data["workflow"],
                kind=data["kind"],
                participants=[ParticipantSpec(**participant) for participant in data["participants"]],
                business_reference=data["business_reference"],
                redirect_url=data["redirect_url"],
                link_ttl=data["link_ttl"],
                send_links=data["send_links"],
                scheduled_for=data["scheduled_for"],
                operator=data["operator"],
            )
            session = _sessions(business).get(pk=created.session.pk)
            participants = list(session.participants.all())
            context = {"participants": participants, "links": {p.pk: url for p, url in created.links}}
            return status.HTTP_201_CREATED, SessionCreatedSerializer(session, context=context).data, session

        if key is None:
            code, body, _session = create()
            return Response(body, status=code)
        if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not key.isprintable() or not key.isascii():
            raise Problem(
                status_code=status.HTTP_400_BAD_REQUEST,
                code="idempotency_key_invalid",
                title="The Idempotency-Key header is not valid.",
                detail=f"Use 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters.",
                errors={IDEMPOTENCY_KEY_HEADER: ["Use 1 to 255 printable ASCII characters."]},
            )
        try:
            answer = integration.idempotent_call(
                business=business,
                key=key,
                fingerprint=integration.request_fingerprint(request.data),
                call=create,
            )
        except integration.IdempotencyConflict as exc:
            raise Problem(
                status_code=status.HTTP_409_CONFLICT,
                code="idempotency_key_reused",
                title="This Idempotency-Key belongs to another request.",
                detail=str(exc),
            ) from None
        headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
        return Response(answer.body, status=answer.status, headers=headers)


class SessionDetailView(APIView):
    @extend_schema(operation_id="sessions_read", summary="Read a session", responses={200: SessionSerializer, **_problems(401, 404)})
    def get(self, request, session_id: str):
        return Response(SessionSerializer(_session_or_404(request.user.business, session_id)).data)


class SessionCancelView(APIView):
    @extend_schema(
        operation_id="sessions_cancel",
        summary="Cancel a session",
        description="Ends the session for everyone, also a call in progress; its links stop working. "
        "Cancelling a cancelled session answers it unchanged.",
        request=None,
        responses={200: SessionSerializer, **_problems(401, 404, 409)},
    )
    def post(self, request, session_id: str):
        business = request.user.business
        session = _session_or_404(business, session_id)
        if session.is_ended and session.state != VerificationSession.State.CANCELLED:
            raise _session_ended_problem(session)
        session_cancel(session=session, actor=Actor.api())
        return Response(SessionSerializer(_session_or_404(business, session_id)).data)


class ParticipantLinkRevokeView(APIView):
    @extend_schema(
        operation_id="participants_revoke_link",
        summary="Revoke a participant's link",
        description="The link stops working at once. Sending the link again issues a new one.",
        request=None,
        responses={200: ParticipantSerializer, **_problems(401, 404)},
    )
    def post(self, request, session_id: str, participant_id: str):
        session = _session_or_404(request.user.business, session_id)
        participant = _participant_or_404(session, participant_id)
        participant_link_revoke(participant=participant, actor=Actor.api())
        participant.refresh_from_db()
        return Response(ParticipantSerializer(participant).data)


class ParticipantLinkSendView(APIView):
    @extend_schema(
        operation_id="participants_send_link",
        summary="E-mail a participant their link again",
        description=(
            "Verity keeps only a hash of each link, so the link cannot be sent twice: a new link is made, "
            "e-mailed, and answered here; the previous link stops working."
        ),
        request=None,
        responses={202: ParticipantLinkSentSerializer, **_problems(401, 404, 409)},
    )
    def post(self, request, session_id: str, participant_id: str):
        session = _session_or_404(request.user.business, session_id)
        participant = _participant_or_404(session, participant_id)
        try:
            participant, link = integration.participant_link_send(participant=participant, actor=Actor.api())
        except integration.LinkEmailRefused as exc:
            raise Problem(
                status_code=status.HTTP_409_CONFLICT, code=exc.code, title="The link cannot be sent.", detail=str(exc)
            ) from None
        participant = _participant_or_404(_session_or_404(request.user.business, session_id), participant_id)
        body = {"participant": ParticipantSerializer(participant).data, "link": link, "email_queued": True}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class SlotListView(APIView):
    @extend_schema(
        operation_id="slots_list",
        summary="List free slots",
        description=(
            "The times a call can be booked at, from now to the end of the business's booking horizon: inside "
            "operators' working hours, where fewer calls are booked than operators work. Pass one as "
            "`scheduled_for` when creating a session."
        ),
        responses={200: SlotListSerializer, **_problems(401)},
    )
    def get(self, request):
        business = request.user.business
        return Response(
            SlotListSerializer(
                {
                    "time_zone": getattr(business_zone(business), "key", "UTC"),
                    "slot_minutes": business.slot_minutes,
                    "results": free_slots(business),
                }
            ).data
        )


class NotFoundView(APIView):
    """Any other path under /api/v1/: a problem, not Django's HTML page."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = None

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise NotFound()

    def get(self, request, *args, **kwargs):
        raise NotFound()
