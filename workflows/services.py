"""Writes for the per-participant workflow: steps, capture requests, the
evidence that answers them, liveness challenges, questions and notes. Each
write is stored first and then pushed to both sides, so a reload or a
reconnect shows exactly the same state."""

import hashlib
import random
import uuid

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _

from kyc import regulations
from kyc.texts import texts_by_language
from sessions_app import locks
from sessions_app.audit import Actor, audit_record
from sessions_app.changes import session_mark_changed
from sessions_app.images import image_sanitize
from sessions_app.models import Evidence, Participant
from sessions_app.services import STALE_PROMPT, participant_set_prompt
from workflows import challenges
from workflows import events as workflow_events
from workflows import steps as kinds
from workflows.models import CaptureRequest, StepState, WorkflowTemplate
from workflows.question_draw import bank_questions_draw

MAX_NOTES_CHARS = 20_000
MAX_ANSWER_CHARS = 2_000
_random = random.SystemRandom()


def participant_steps_create(*, participant, workflow: WorkflowTemplate) -> list[StepState]:
    """Copy the workflow's steps for one participant (a snapshot: later edits
    of the template do not change a running session). Under the rule
    RANDOMISED_QUESTIONS each questions step asks questions drawn from the
    business's bank instead of the workflow's own, and the draw is audited."""
    rule_set = regulations.RuleSet.of(participant.session)
    steps = []
    for position, step in enumerate(workflow.steps):
        # The default language goes into the snapshot with the texts it completes.
        config = {**step, "default_language": workflow.default_language}
        if step["kind"] == kinds.QUESTIONS and rule_set.has(regulations.RANDOMISED_QUESTIONS):
            config = _questions_drawn_config(participant=participant, config=config, position=position, rule_set=rule_set)
        steps.append(StepState(participant=participant, position=position, kind=step["kind"], config=config))
    return StepState.objects.bulk_create(steps)


def _questions_drawn_config(*, participant, config: dict, position: int, rule_set) -> dict:
    """The questions step's settings with the questions drawn for this
    participant, what was drawn kept beside them (bank ids and categories)
    and audited, in the caller's transaction."""
    business = participant.session.business
    drawn = bank_questions_draw(business=business, count=rule_set.setting("questions_drawn") or 1)
    if not drawn:
        # workflow.rules_followable_check refuses this at session_create; a
        # bank emptied since must not make a call that breaks its rules.
        raise ValidationError({"workflow": _("The question bank has no active question to draw from.")})
    record = [{"bank_question": question.pk, "category": question.category} for question in drawn]
    # Drawn in random order already: the step asks them in that order.
    config = {key: value for key, value in config.items() if key not in ("randomize", "ask_count")}
    config |= {"questions": [question.as_step_question() for question in drawn], "drawn_from_bank": record}
    audit_record(
        business=business,
        session=participant.session,
        participant=participant,
        actor=Actor.system(),
        action="questions.drawn",
        data={"position": position, "questions": record},
    )
    return config


def _locked_step(step_pk: int) -> StepState:
    return locks.participant_row_lock(StepState.objects, step_pk)


def step_transition(*, step: StepState, target: str, actor: Actor, data: dict | None = None) -> StepState:
    with transaction.atomic():
        step = _locked_step(step.pk)
        StepState.MACHINE.check(step.state, target)
        previous = step.state
        now = timezone.now()
        step.state = target
        if target == StepState.State.IN_PROGRESS:
            step.started_at = now
            step.finished_at = None
        elif target in (StepState.State.PASSED, StepState.State.FAILED, StepState.State.SKIPPED):
            step.finished_at = now
        if data:
            step.data = {**step.data, **data}
        step.save()
        participant = step.participant
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            actor=actor,
            action="step.transition",
            data={"step": step.position, "kind": step.kind, "from": previous, "to": target},
        )
        session_mark_changed(participant.session)
    return step


def step_complete_pre_call(*, participant, kind: str, actor: Actor) -> None:
    """Mark a pre-call step (terms, device check) passed, if the workflow has it."""
    step = participant.steps.filter(kind=kind).first()
    if step and step.state != StepState.State.PASSED:
        step_transition(step=step, target=StepState.State.PASSED, actor=actor)


def notes_finish(*, participant, actor: Actor) -> None:
    """The participant is decided: their notes step ends, passed when the
    operator wrote notes, skipped when not (it has no button of its own; left
    open it read "In progress" on every completed session). Notes can still be
    added for an hour after the call (notes_save)."""
    for step in participant.steps.filter(kind=kinds.NOTES).exclude(
        state__in=[StepState.State.PASSED, StepState.State.FAILED, StepState.State.SKIPPED]
    ):
        written = str(step.data.get("text") or "").strip()
        step_transition(step=step, target=StepState.State.PASSED if written else StepState.State.SKIPPED, actor=actor)


# --- operator actions inside the call ----------------------------------------------


def _locked_step_in_call(step: StepState, operator) -> StepState:
    step = _locked_step(step.pk)
    participant = step.participant
    if participant.session.operator_id != operator.pk:
        raise ValidationError(_("Only the operator of this call can do that."))
    if participant.state != Participant.State.IN_CALL:
        raise ValidationError(_("The participant is not in the call."))
    if step.kind in kinds.PRE_CALL_KINDS:
        raise ValidationError(_("That step is done by the customer before the call."))
    return step


def _liveness_challenge(config: dict) -> list[str]:
    # Random subset in random order: a replayed recording cannot know it.
    count = int(config.get("action_count", 3))
    return _random.sample(list(kinds.LIVENESS_ACTIONS), count)


def _question_order(config: dict) -> list[int]:
    order = list(range(len(config.get("questions", []))))
    if config.get("randomize"):
        _random.shuffle(order)
    ask = config.get("ask_count")
    return order[:ask] if isinstance(ask, int) and ask > 0 else order


def step_start(*, step: StepState, operator) -> StepState:
    """Open an in-call step. Liveness draws its challenge and questions their
    order now, once; a restarted liveness step draws a fresh challenge."""
    actor = Actor.operator(operator)
    with transaction.atomic():
        step = _locked_step_in_call(step, operator)
        data = {}
        if step.kind == kinds.LIVENESS:
            data = {"challenge": _liveness_challenge(step.config), "action_index": 0, "captured": []}
            # A burst still asked for belongs to the old challenge: arriving
            # late it would move the new one on, past an action never done.
            CaptureRequest.objects.filter(
                step=step, kind=Evidence.Kind.LIVENESS_FRAME, state=CaptureRequest.State.REQUESTED
            ).update(state=CaptureRequest.State.CANCELLED)
        elif step.kind == kinds.QUESTIONS and "question_order" not in step.data:
            data = {"question_order": _question_order(step.config), "answers": {}}
        if step.state != StepState.State.IN_PROGRESS:
            step = step_transition(step=step, target=StepState.State.IN_PROGRESS, actor=actor, data=data)
        elif data:
            step.data = {**step.data, **data}
            step.save(update_fields=["data", "updated_at"])
            session_mark_changed(step.participant.session)
        if step.kind == kinds.LIVENESS:
            _prompt(step.participant, {"code": step.data["challenge"][0], "text": ""}, actor, step=step)
        elif step.kind == kinds.QUESTIONS:
            _prompt_next_question(step, actor)
    return step


def _prompt_next_question(step: StepState, actor: Actor) -> None:
    """The question the operator asks now appears in the customer's frame
    too (read aloud is easy to mishear); none once all are answered."""
    questions = step.config.get("questions", [])
    answers = step.data.get("answers", {})
    upcoming = [q for q in step.data.get("question_order", []) if str(q) not in answers]
    prompt = None
    if upcoming:
        # The server knows the participant's language but not the browser's:
        # the prompt carries every language's text and the customer's page
        # shows its own language's, else ``text`` (in ``lang``).
        index = upcoming[0]
        question = kinds.question_at(step.config, index)
        language = step.participant.language or None
        chosen = kinds.question_text(step.config, index, language=language)
        prompt = {"code": "question", "text": chosen.text}
        if isinstance(question.ask, dict):  # a plain text keeps the prompt as it was
            prompt |= {"lang": chosen.language, "texts": texts_by_language(question.ask, default_language=chosen.language)}
        if question.answered_in_frame:
            # The customer answers in the frame: the page needs to know which
            # question it answers and, for a choice, what to offer.
            prompt |= {"question": index, "answer": question.answer}
            if question.answer == kinds.ANSWER_CHOICE:
                prompt["choices"] = [
                    _choice_for_prompt(step.config, index, number, language=language)
                    for number in range(len(question.choices))
                ]
    if prompt or step.participant.current_prompt:
        # The next question is the operator's doing (they recorded an answer)
        # and replaces any prompt; "all answered" clears only this step's own.
        _prompt(step.participant, prompt, actor, step=step, keep_other_steps=prompt is None)


def _choice_for_prompt(config: dict, index: int, number: int, *, language: str | None) -> dict:
    chosen = kinds.choice_text(config, index, number, language=language)
    value = kinds.question_at(config, index).choices[number]
    return {
        "text": chosen.text,
        "lang": chosen.language,
        "texts": texts_by_language(value, default_language=chosen.language),
    }


def step_finish(*, step: StepState, operator, outcome: str) -> StepState:
    targets = {"pass": StepState.State.PASSED, "fail": StepState.State.FAILED, "skip": StepState.State.SKIPPED}
    if outcome not in targets:
        raise ValidationError(f"Unknown outcome {outcome!r}.")
    with transaction.atomic():
        step = _locked_step_in_call(step, operator)
        step = step_transition(step=step, target=targets[outcome], actor=Actor.operator(operator))
        if step.participant.current_prompt:
            # Only this step's instruction (or the operator's own prompt): a
            # finish processed after the next step started (the console's two
            # requests crossing, or an earlier step passed later) must not wipe
            # the instruction the next step just showed.
            _prompt(step.participant, None, Actor.operator(operator), step=step, keep_other_steps=True)
    return step


def _prompt(
    participant: Participant, prompt: dict | None, actor: Actor, *, step: StepState, keep_other_steps: bool = False
) -> None:
    participant_set_prompt(
        participant=participant, prompt=prompt, actor=actor, step=step.position, keep_other_steps=keep_other_steps
    )


def capture_request_create(*, step: StepState, operator, kind: str) -> CaptureRequest:
    """Ask the customer's page for a still (or, for liveness, a short burst)."""
    allowed = {
        # A security feature's still: asked for by workflows.security_features.security_feature_tick.
        kinds.DOCUMENT: {
            Evidence.Kind.DOCUMENT_FRONT,
            Evidence.Kind.DOCUMENT_BACK,
            Evidence.Kind.FACE,
            Evidence.Kind.SECURITY_FEATURE,
        },
        kinds.LIVENESS: {Evidence.Kind.LIVENESS_FRAME, Evidence.Kind.FACE},
    }
    with transaction.atomic():
        step = _locked_step_in_call(step, operator)
        if kind not in allowed.get(step.kind, set()):
            raise ValidationError(f"A {step.kind} step cannot capture {kind}.")
        if step.state != StepState.State.IN_PROGRESS:
            step = step_transition(step=step, target=StepState.State.IN_PROGRESS, actor=Actor.operator(operator))
        label = ""
        if kind == Evidence.Kind.LIVENESS_FRAME:
            challenge = step.data.get("challenge") or []
            index = step.data.get("action_index", 0)
            if not challenge:
                raise ValidationError(_("Start the liveness challenge first."))
            if index >= len(challenge):
                raise ValidationError(_("Every liveness action has been captured."))
            label = challenge[index]
        # A newer request replaces any the customer has not answered yet; a
        # challenge it replaces gives back the instruction it interrupted.
        _challenges_cancel(step.participant, Actor.operator(operator))
        CaptureRequest.objects.filter(
            participant=step.participant, state=CaptureRequest.State.REQUESTED
        ).update(state=CaptureRequest.State.CANCELLED)
        capture = CaptureRequest.objects.create(participant=step.participant, step=step, kind=kind, label=label)
        audit_record(
            business=step.participant.session.business,
            session=step.participant.session,
            participant=step.participant,
            actor=Actor.operator(operator),
            action="capture.requested",
            data={"capture": str(capture.public_id), "kind": kind, "label": label, "step": step.position},
        )
        session_mark_changed(step.participant.session)
    return capture


def capture_frames_expected(capture: CaptureRequest, source: str) -> int:
    if source != Evidence.Source.CUSTOMER_DEVICE:
        return 1
    if capture.kind == Evidence.Kind.LIVENESS_FRAME:
        return kinds.LIVENESS_BURST_FRAMES
    if capture.kind == Evidence.Kind.CHALLENGE_FRAME:
        return challenges.CHALLENGE_BURST_FRAMES
    return 1


# --- operator challenges ----------------------------------------------------------


def challenge_request(*, participant: Participant, operator, code: str) -> CaptureRequest:
    """The operator asks one customer for a challenge (workflows.challenges):
    the instruction replaces the one in the customer's frame, and their page
    takes a burst, answered through the same capture path as a liveness
    action. Once the burst is in, the instruction it interrupted comes back
    (``_challenge_burst_done``).

    Refused (ValidationError) when the code is unknown, the session is not
    this operator's, the participant is not in the call, or another
    challenge's burst is still under way."""
    challenge = challenges.CHALLENGES.get(code)
    if challenge is None:
        raise ValidationError(_("Unknown challenge."), code="unknown_challenge")
    actor = Actor.operator(operator)
    with transaction.atomic():
        # Session, then participant (sessions_app.locks): two clicks of the
        # operator, or a click and a burst completing, are taken one by one.
        participant = locks.participant_lock(participant.pk)
        session = participant.session
        if session.operator_id != operator.pk:
            raise ValidationError(_("Only the operator of this call can do that."), code="not_your_call")
        if participant.state != Participant.State.IN_CALL:
            raise ValidationError(_("The participant is not in the call."), code="not_in_call")
        pending = _pending_challenges(participant)
        recent = timezone.now() - timedelta(seconds=challenges.CHALLENGE_BURST_SECONDS)
        if any(capture.created_at > recent for capture in pending):
            raise ValidationError(
                _("The customer is still doing the last challenge. Wait until its pictures are in."),
                code="challenge_under_way",
            )
        current = participant.current_prompt
        # A challenge whose page never answered is replaced: what it
        # interrupted is what this one interrupts.
        resume = pending[-1].resume_prompt if pending and _shows_challenge(current, pending[-1]) else current
        CaptureRequest.objects.filter(participant=participant, state=CaptureRequest.State.REQUESTED).update(
            state=CaptureRequest.State.CANCELLED, resume_prompt=None
        )
        capture = CaptureRequest.objects.create(
            participant=participant,
            step=None,
            kind=Evidence.Kind.CHALLENGE_FRAME,
            label=code,
            resume_prompt=resume,
        )
        audit_record(
            business=session.business,
            session=session,
            participant=participant,
            actor=actor,
            action="challenge.requested",
            data={
                "capture": str(capture.public_id),
                "challenge": code,
                "interrupted": (resume or {}).get("code"),
            },
        )
        participant_set_prompt(participant=participant, prompt=_challenge_prompt(challenge, participant), actor=actor)
    return capture


def _challenge_prompt(challenge: challenges.Challenge, participant: Participant) -> dict:
    """The instruction in every language the product speaks, chosen on the
    customer's page like a question's text: their browser's language may not
    be the one the server knows."""
    languages = [code for code, _name in settings.LANGUAGES]
    texts = {}
    for language in languages:
        with translation.override(language):
            texts[language] = str(challenge.instruction)
    language = participant.language if participant.language in texts else settings.LANGUAGE_CODE
    return {"code": challenge.code, "text": texts.get(language, ""), "lang": language, "texts": texts}


def _pending_challenges(participant: Participant) -> list[CaptureRequest]:
    return list(
        CaptureRequest.objects.filter(
            participant=participant, kind=Evidence.Kind.CHALLENGE_FRAME, state=CaptureRequest.State.REQUESTED
        ).order_by("created_at")
    )


def _shows_challenge(prompt: dict | None, capture: CaptureRequest) -> bool:
    return bool(prompt) and prompt.get("code") == capture.label and prompt.get("step") is None


def _challenge_resume(capture: CaptureRequest, participant: Participant, actor: Actor) -> None:
    """Show the instruction the challenge interrupted again, if the
    challenge's own is still up: one the operator or a step showed since
    stays."""
    previous = capture.resume_prompt
    # Kept only while the burst is under way: a question's prompt may carry
    # the customer's typed answer, which lives on in the step's data alone.
    CaptureRequest.objects.filter(pk=capture.pk).update(resume_prompt=None)
    if participant.state != Participant.State.IN_CALL or not _shows_challenge(participant.current_prompt, capture):
        return
    if previous and previous.get("step") is not None:
        step = participant.steps.filter(position=previous["step"]).first()
        if step is None or step.state != StepState.State.IN_PROGRESS:
            # Its step ended during the burst: its instruction ended with it.
            previous = None
    participant_set_prompt(
        participant=participant,
        prompt=previous,
        actor=actor,
        step=(previous or {}).get("step"),
    )


def _challenges_cancel(participant: Participant, actor: Actor) -> None:
    """A newer capture request replaces a challenge not yet answered: its
    instruction gives way to the one it interrupted."""
    for capture in _pending_challenges(participant):
        _challenge_resume(capture, participant, actor)
        participant.refresh_from_db(fields=["current_prompt"])


def evidence_store_image(*, capture: CaptureRequest, source: str, data: bytes, frame_index: int = 0) -> Evidence:
    """Store one uploaded image answering a capture request. Idempotent: the
    same capture, source and frame uploaded twice is stored once."""
    if source not in (Evidence.Source.CUSTOMER_DEVICE, Evidence.Source.OPERATOR_VIEW):
        raise ValidationError("Unknown source.")
    if not 0 <= frame_index < capture_frames_expected(capture, source):
        raise ValidationError("Unexpected frame number.")
    existing = Evidence.objects.filter(capture=capture, source=source, frame_index=frame_index).first()
    if existing:
        return existing
    if capture.state == CaptureRequest.State.CANCELLED:
        raise ValidationError(_("This capture was replaced by a newer one."))
    clean = image_sanitize(data)  # raises InvalidImage with a clear code
    digest = hashlib.sha256(clean.data).hexdigest()
    participant = Participant.objects.select_related("session__business").get(pk=capture.participant_id)
    session = participant.session
    evidence_id = uuid.uuid4()
    try:
        with transaction.atomic():
            # Session and participant first (sessions_app.locks): a complete
            # burst moves the liveness step and the prompt on.
            locks.participant_lock(participant.pk)
            # Frames of one burst may arrive side by side: the lock lets
            # exactly one of them see the burst complete.
            capture = CaptureRequest.objects.select_for_update().get(pk=capture.pk)
            evidence = Evidence(
                public_id=evidence_id,
                session=session,
                participant=participant,
                step_id=capture.step_id,
                capture=capture,
                kind=capture.kind,
                source=source,
                label=capture.label,
                frame_index=frame_index,
                content_type=clean.content_type,
                size=len(clean.data),
                sha256=digest,
                width=clean.width,
                height=clean.height,
            )
            # A server-made name: nothing of the upload's name or type survives.
            evidence.file.save(f"{session.public_id.hex}/{evidence_id.hex}.jpg", ContentFile(clean.data), save=False)
            evidence.save()
            workflow_events.evidence_stored.send(sender=Evidence, capture=capture, evidence=evidence)
            # Complete when every frame is in, not when the last number
            # arrives: a retried earlier frame may come after it.
            if (
                source == Evidence.Source.CUSTOMER_DEVICE
                and capture.state == CaptureRequest.State.REQUESTED
                and Evidence.objects.filter(capture=capture, source=source).count()
                == capture_frames_expected(capture, source)
            ):
                CaptureRequest.objects.filter(pk=capture.pk).update(
                    state=CaptureRequest.State.FULFILLED, fulfilled_at=timezone.now()
                )
                if capture.kind == Evidence.Kind.LIVENESS_FRAME:
                    _prompt_next_liveness_action(capture)
                elif capture.kind == Evidence.Kind.CHALLENGE_FRAME:
                    _challenge_burst_done(capture, participant)
            audit_record(
                business=session.business,
                session=session,
                participant=participant,
                actor=Actor.customer() if source == Evidence.Source.CUSTOMER_DEVICE else Actor.system(),
                action="evidence.stored",
                data={
                    "evidence": str(evidence_id),
                    "kind": capture.kind,
                    "source": source,
                    "label": capture.label,
                    "frame": frame_index,
                    "sha256": digest,
                    "size": len(clean.data),
                },
            )
            session_mark_changed(participant.session)
            transaction.on_commit(lambda: _run_checks_later(evidence.pk))
    except IntegrityError:
        # The same frame raced in twice: keep the first, drop our file.
        evidence.file.delete(save=False)
        return Evidence.objects.get(capture=capture, source=source, frame_index=frame_index)
    return evidence


def _prompt_next_liveness_action(capture: CaptureRequest) -> None:
    """The burst for one action is in: move the challenge on and prompt the
    next action (or clear the prompt after the last)."""
    # of=self: the session's operator is a nullable join, which PostgreSQL
    # will not lock ("FOR UPDATE cannot be applied to the nullable side").
    step = (
        StepState.objects.select_for_update(of=("self",))
        .select_related("participant__session__operator")
        .get(pk=capture.step_id)
    )
    challenge = step.data.get("challenge") or []
    index = step.data.get("action_index", 0) + 1
    step.data = {**step.data, "action_index": index, "captured": [*step.data.get("captured", []), capture.label]}
    step.save(update_fields=["data", "updated_at"])
    participant = step.participant
    participant.refresh_from_db()
    if participant.state != Participant.State.IN_CALL:
        return
    if step.state != StepState.State.IN_PROGRESS:
        # The operator passed (or failed) the step while this burst was on its
        # way: its instruction was cleared then, and must stay cleared.
        return
    operator = participant.session.operator
    actor = Actor.operator(operator) if operator else Actor.system()
    # A burst completes seconds after it was asked for: by then the operator
    # may have moved on to another step, whose instruction stays.
    _prompt(
        participant,
        {"code": challenge[index], "text": ""} if index < len(challenge) else None,
        actor,
        step=step,
        keep_other_steps=True,
    )


def _challenge_burst_done(capture: CaptureRequest, participant: Participant) -> None:
    """The challenge's burst is in: the customer goes back to where they were."""
    participant.refresh_from_db(fields=["state", "current_prompt"])
    operator = participant.session.operator
    _challenge_resume(capture, participant, Actor.operator(operator) if operator else Actor.system())


def _run_checks_later(evidence_id: int) -> None:
    """Automated checks on the new capture, when the checks engine is installed."""
    try:
        from workflows.tasks import run_checks_for_evidence
    except ImportError:
        return
    run_checks_for_evidence.delay(evidence_id)


def question_answer_record(*, step: StepState, operator, question: int, answer: str) -> StepState:
    if not isinstance(question, int) or question < 0 or question >= len(step.config.get("questions", [])):
        raise ValidationError(_("Unknown question."))
    with transaction.atomic():
        step = _locked_step_in_call(step, operator)
        if step.kind != kinds.QUESTIONS:
            raise ValidationError(_("Not a questions step."))
        answers = {**step.data.get("answers", {}), str(question): answer[:MAX_ANSWER_CHARS]}
        step.data = {**step.data, "answers": answers}
        step.save(update_fields=["data", "updated_at"])
        audit_record(
            business=step.participant.session.business,
            session=step.participant.session,
            participant=step.participant,
            actor=Actor.operator(operator),
            action="question.answered",
            data={"step": step.position, "question": question},
        )
        session_mark_changed(step.participant.session)
        _prompt_next_question(step, Actor.operator(operator))
    return step


def question_customer_answer(
    *, participant: Participant, prompt_id: int, question: int, text: str | None = None, choice: int | None = None
) -> StepState:
    """The customer answers the question shown in their frame: typed (``text``)
    or chosen (``choice``, the choice's number). Kept beside the operator's
    note (``question_answer_record``), which moves the questions on: the
    customer may change their answer until then. Refused when the prompt is
    not the current one (STALE_PROMPT), the question is not answered in the
    frame, or the answer does not fit it."""
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        current = participant.current_prompt or {}
        if (
            participant.state != Participant.State.IN_CALL
            or current.get("id") != prompt_id
            or current.get("question") != question
        ):
            raise ValidationError(_("That question is no longer asked."), code=STALE_PROMPT)
        step = _locked_step(participant.steps.get(position=current.get("step")).pk)
        participant = step.participant
        if step.kind != kinds.QUESTIONS or step.state != StepState.State.IN_PROGRESS:
            raise ValidationError(_("That question is no longer asked."), code=STALE_PROMPT)
        asked = kinds.question_at(step.config, question)
        if asked.answer == kinds.ANSWER_TYPED and choice is None and text is not None:
            text = text.strip()
            if not text:
                raise ValidationError(_("Type your answer first."), code="empty_answer")
            answer = {"text": text[:MAX_ANSWER_CHARS]}
        elif asked.answer == kinds.ANSWER_CHOICE and text is None and choice is not None:
            if not 0 <= choice < len(asked.choices):
                raise ValidationError(_("Choose one of the answers shown."), code="unknown_choice")
            answer = {"choice": choice}
        else:
            raise ValidationError(_("This question is not answered that way."), code="wrong_answer_kind")
        answer["at"] = timezone.now().isoformat()
        step.data = {**step.data, "customer_answers": {**step.data.get("customer_answers", {}), str(question): answer}}
        step.save(update_fields=["data", "updated_at"])
        # The page shows what it sent after a reload too.
        participant.current_prompt = {**current, "answered": {k: v for k, v in answer.items() if k != "at"}}
        participant.save(update_fields=["current_prompt"])
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            actor=Actor.customer(),
            action="question.answered_by_customer",
            data={"step": step.position, "question": question},
        )
        session_mark_changed(participant.session)
    return step


def notes_save(*, step: StepState, operator, text: str) -> StepState:
    """Saved as the operator types (debounced by the page): no lost notes."""
    with transaction.atomic():
        step = _locked_step(step.pk)
        if step.participant.session.operator_id != operator.pk:
            raise ValidationError(_("Only the operator of this call can write its notes."))
        if step.kind != kinds.NOTES:
            raise ValidationError(_("Not a notes step."))
        if step.participant.session.is_ended and step.participant.session.ended_at and (
            timezone.now() - step.participant.session.ended_at
        ).total_seconds() > 3600:
            raise ValidationError(_("Notes close an hour after the call."))
        if step.state == StepState.State.PENDING:
            step = step_transition(step=step, target=StepState.State.IN_PROGRESS, actor=Actor.operator(operator))
        step.data = {**step.data, "text": text[:MAX_NOTES_CHARS]}
        step.save(update_fields=["data", "updated_at"])
        session_mark_changed(step.participant.session)
    return step
