"""Texts the console's JavaScript shows, translated on the server and handed
to the page as JSON, as the customer's page gets its own
(sessions_app/ui_strings.py; one catalogue: locale/*/django.po).

Labels of codes the state carries (step kinds and states, capture kinds,
check statuses) come from the models' choices where they exist, so the
console and admin say the same thing."""

from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from operators.models import Decision, FraudFlag, NegativeListEntry
from operators.services import RECOMMENDATION_LABELS
from sessions_app.integrity import REASONS as INTEGRITY_REASONS
from sessions_app.models import Evidence, Participant, VerificationSession
from workflows import challenges, steps
from workflows.models import CheckResult, SecurityFeature, StepState


def plural_forms(counted: Callable[[int], str]) -> dict[str, str]:
    """A counted text's forms, by the CLDR category the page's
    ``Intl.PluralRules`` picks (call-ui.js ``plural``). The languages shipped,
    English and German, have two: "one" (1) and "other" (2, 0, ...).
    ``counted`` calls ngettext with the texts themselves, where makemessages
    finds them."""
    return {"one": counted(1), "other": counted(2)}


def console_strings() -> dict:
    """The queue page's texts."""
    return {
        "operatorsAvailable": plural_forms(
            lambda n: ngettext("%(count)s operator is available.", "%(count)s operators are available.", n)
        ),
        "minutesSeconds": _("%(minutes)s min %(seconds)s s"),
        "seconds": _("%(seconds)s s"),
        "kinds": dict(VerificationSession.Kind.choices),
        "readyCount": _("%(ready)s of %(total)s ready"),
        "notHereYet": _("%(name)s (not here yet)"),
        "answer": _("Answer"),
        "answerCallOf": _("Answer the call of %(names)s"),
        "answerFailed": _("This call could not be taken."),
        "bookedFor": _("Booked for %(time)s"),
        "ringTitle": _("A customer is waiting"),
        "ringText": _("Open the Verity console to answer."),
        "ringOn": _("Ring on"),
        "ringOff": _("Ring off"),
        "signedOut": _("Signed out."),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "languageUnknown": _("Unknown"),
        "heldBack": plural_forms(
            lambda n: ngettext(
                "%(count)s more call is waiting for an operator who speaks its language or is trained for it; "
                "it comes to you if nobody takes it in time.",
                "%(count)s more calls are waiting for operators who speak their language or are trained for them; "
                "they come to you if nobody takes them in time.",
                n,
            )
        ),
    }


def call_strings() -> dict:
    """The operator's call page: tiles, connection, recording, the workflow panel."""
    return {
        "operator": _("Operator"),
        "muted": _("Muted"),
        "cameraOff": _("Camera off"),
        "goodConnection": _("Good connection"),
        "poorConnection": _("Poor connection"),
        "mediaUnavailable": _("Camera or microphone unavailable (%(reason)s). The customer will not see or hear you."),
        "recordingRequired": _("%(message)s This workflow requires the recording: you cannot approve until it runs."),
        "savingParts": _("Saving the recording… (%(parts)s parts left)"),
        "savingLast": _("Saving the recording…"),
        "recordingQueued": _("Recording saved. It is composed on the server: you can take the next call."),
        "recordingComposing": _("Composing the recording… %(percent)s"),
        "recordingComposed": _("The recording is ready."),
        "recordingNothing": _("Nothing of this call was recorded."),
        "recordingFailed": _(
            "The recording could not be composed. Compliance can compose it again from the parts kept."
        ),
        # The workflow panel.
        "stepKinds": {kind: str(label) for kind, label in steps.STEP_KIND_LABELS.items()},
        "stepStates": dict(StepState.State.choices),
        "participantStates": dict(Participant.State.choices),
        "actions": {code: str(label) for code, label in steps.LIVENESS_ACTION_LABELS.items()},
        "challenges": {code: str(label) for code, label in challenges.CHALLENGE_LABELS.items()},
        "challengesTitle": _("Challenges"),
        "challengesHint": _("The customer is told in their frame; their camera takes a burst of pictures."),
        "challengeAsk": _("Ask the customer: %(challenge)s"),
        "challengeAskSuggested": _("Ask the customer: %(challenge)s (suggested by the capture-integrity panel)"),
        "challengeSuggested": _("Suggested"),
        # Which challenges each capture-integrity sign suggests (one registry:
        # workflows/challenges.py); the panel picks them for the signs it shows.
        "challengesForSign": {code: challenges.challenges_for_signals([code]) for code in INTEGRITY_REASONS},
        "burstFrame": _("Frame %(number)s of %(count)s · %(time)s"),
        "captureKinds": dict(Evidence.Kind.choices),
        "documentKinds": {kind: str(label) for kind, label in steps.DOCUMENT_KIND_LABELS.items()},
        "checkStatuses": dict(CheckResult.Status.choices),
        "checkKinds": dict(CheckResult.Kind.choices),
        "recommendations": {code: str(label) for code, label in RECOMMENDATION_LABELS.items()},
        "outcomes": dict(Decision.Outcome.choices),
        "failed": _("That did not work."),
        "removeConfirm": _("Remove %(name)s from the call? Their link stops working."),
        "removeFailed": _("Could not remove."),
        "remove": _("Remove %(name)s from the call"),
        "steps": _("Steps"),
        "checks": _("Automated checks"),
        "recommendation": _("System recommendation (advice, you decide):"),
        "checking": _("Checking: %(checks)s…"),
        "noResults": _("No check results yet."),
        "yourView": _("(your view)"),
        "noScore": _("no score"),
        "score": _("score %(score)s"),
        "retake": _("Retake:"),
        "pass": _("Pass"),
        "fail": _("Fail"),
        "skip": _("Skip"),
        "stepRegion": _("%(step)s step"),
        "beforeCall": _("Done by the customer before the call."),
        "notInCall": _("The participant is not in the call."),
        "accepted": _("Accepted: %(kinds)s"),
        "askFront": _("Ask for front"),
        "captureFront": _("Capture front"),
        "askBack": _("Ask for back"),
        "captureBack": _("Capture back"),
        "askLook": _("Ask to look at camera"),
        "captureFace": _("Capture face"),
        "newChallenge": _("New challenge"),
        "startChallenge": _("Start challenge"),
        "captureAction": _("Capture: %(action)s"),
        # Document security features (workflows.security_features).
        "featuresTitle": _("Security features"),
        "featuresProgress": _("%(checked)s of %(required)s checked"),
        "featuresDocument": _("Document the customer shows"),
        "featuresDraw": _("Draw security features"),
        "featuresCategories": {code: str(label) for code, label in SecurityFeature.Category.choices},
        "featuresAskTilt": _("Ask to tilt"),
        "featuresTiltFirst": _("Ask the customer to tilt the document: you can tick once their screen shows it."),
        "featuresTiltShown": _("The customer's screen shows the tilt prompt."),
        "featuresTick": _("Seen: tick %(feature)s"),
        "featuresTickShort": _("Tick"),
        "featuresTicking": _("Taking the still…"),
        "featuresTicked": _("Ticked %(offset)s"),
        "featuresFrame": _("Frame taken when %(feature)s was ticked"),
        # Whether the customer's page confirmed showing the current prompt.
        "promptSending": _("Prompt sent; waiting for the customer's page to confirm it."),
        "promptShown": _("Shown to the customer"),
        "promptNotShown": _("Not shown yet — the customer's page has not confirmed it"),
        "promptResend": _("Send again"),
        # The one-time code at the end of the call (rule TAN_AT_END).
        "oneTimeCodeTitle": _("One-time code"),
        "oneTimeCodeSend": _("Send one-time code"),
        "oneTimeCodeSendNew": _("Send a new code"),
        "oneTimeCodeByEmail": _("By e-mail to %(to)s"),
        "oneTimeCodeBySms": _("By SMS to %(to)s"),
        "oneTimeCodeNotSent": _("Not sent yet. Approval waits until the customer has entered it."),
        "oneTimeCodeWaiting": _("Sent to %(to)s — waiting for the customer to enter it. Attempts left: %(attempts)s."),
        "oneTimeCodeExpired": _("Expired — send a new code."),
        "oneTimeCodeLocked": _("Locked after too many wrong entries — send a new code."),
        "oneTimeCodeConfirmed": _("CONFIRMED ✓ by the customer"),
        "oneTimeCodeNotDelivered": _("Not delivered: %(problem)s"),
        "oneTimeCodeNoMore": _("No more codes can be sent in this call."),
        "startQuestions": _("Start questions"),
        "answerTo": _("Answer to: %(question)s"),
        "saveAnswer": _("Save answer"),
        "saveNote": _("Save and go on"),
        "noteOn": _("Your note on: %(question)s"),
        "notePlaceholder": _("Your note (optional)"),
        "customerAnswered": _("The customer answered: %(answer)s"),
        "operatorNote": _("Note: %(note)s"),
        "awaitingCustomerAnswer": _("Waiting for the customer's answer in their frame…"),
        "allAnswered": _("All questions answered."),
        "notes": _("Notes"),
        "notesLabel": _("Notes (saved as you type)"),
        "saving": _("Saving…"),
        "saved": _("Saved"),
        "notSaved": _("Not saved"),
        "captures": _("Captures"),
        "noCaptures": _("No captures yet."),
        "enlarge": _("Enlarge: %(capture)s"),
        "customersCamera": _("Customer's camera, full resolution"),
        "customersCameraCaption": _("Customer's camera · %(size)s · SHA-256 %(hash)s…"),
        "whatYouSaw": _("What you saw"),
        "whatYouSawCaption": _("What you saw · %(size)s"),
        "decided": _("Decided: %(outcome)s · %(reason)s"),
        "decidedShared": _("Decided: %(outcome)s · %(reason)s · shared with the customer"),
        "decidedProvisional": _("Provisional: a second person reviews this approval before it is final."),
        "decisionFailed": _("The decision could not be recorded."),
        # Minimum call conditions (sessions_app/call_conditions.py words the figures).
        "callConditions": {
            "title": _("Call conditions"),
            "measuring": _("Measuring the video and connection…"),
            "line": _("%(summary)s — %(verdict)s"),
            "abort": _("Abort: poor conditions"),
            "abortConfirm": _(
                "End this customer's verification because the video or connection is too poor? "
                "They are offered a new try."
            ),
            "abortFailed": _("The call could not be aborted."),
            "belowToast": _("%(name)s: call conditions are below the minimum."),
        },
        # The customer's live location (LIVE_LOCATION; sessions_app/precall.py).
        "location": {
            "title": _("Live location"),
            "coordinates": _("%(latitude)s, %(longitude)s (accuracy ±%(accuracy)s m)"),
            "at": _("Located %(time)s (the customer's clock)"),
            "countries": _("Country of the location: %(location)s · of the IP address: %(ip)s"),
            "unknown": _("unknown"),
        },
        # The capture-integrity risk panel (sessions_app/integrity.py has the reasons).
        "integrity": {
            "title": _("Capture integrity"),
            "none": _("No warning signs"),
            "levels": {
                "low": _("Low risk"),
                "elevated": _("Elevated risk"),
                "high": _("High risk"),
            },
            "raisedHint": _("The camera may not be a real camera. Consider a challenge, and say what you saw in your notes."),
            # "note": a signal of weight 0 (the browser's test camera), shown, never a warning.
            "strengths": {
                "note": _("note"),
                "weak": _("weak sign"),
                "medium": _("medium sign"),
                "strong": _("strong sign"),
            },
            "noted": _("Noted, not a warning on its own:"),
            "product": _("Named: %(product)s."),
            "functions": _("Replaced: %(functions)s."),
            "similar": _("%(pairs)s near-identical pairs among %(frames)s frames."),
            "suggested": _("Suggested challenges: %(challenges)s."),
        },
        "override": _("The system recommends “%(advice)s”. I decide against it and say why in the comment."),
        # Repeat applicants and the negative list (operators/repeat_applicants.py).
        "seenBeforeTitle": _("Seen before"),
        "notSeenBefore": _("Not seen before."),
        "seenBeforeSummary": plural_forms(
            lambda n: ngettext("Seen before: %(count)s session.", "Seen before: %(count)s sessions.", n)
        ),
        "seenBeforeRejected": plural_forms(
            lambda n: ngettext(
                "Seen before: %(count)s session, %(rejected)s rejected for %(reason)s.",
                "Seen before: %(count)s sessions, %(rejected)s rejected for %(reason)s.",
                n,
            )
        ),
        "seenBeforeSession": _("Session of %(date)s"),
        "seenBeforeMatched": _("same %(fields)s"),
        "matchFields": {
            "document": _("document number"),
            "name_birth_date": _("name and date of birth"),
            "face": _("face"),
        },
        "onNegativeList": _("On the business's negative list (%(kind)s): %(reason)s"),
        "negativeListKinds": dict(NegativeListEntry.Kind.choices),
        "decisionReasons": dict(Decision.Reason.choices),
        "noDecisionYet": _("No decision yet"),
        "outcomeAwaitingReview": _("%(outcome)s, awaiting review"),
        "flagged": _("Flagged"),
        # The fraud flag (operators/fraud_flags.py).
        "flagRaised": _("Flagged for compliance: %(reason)s."),
        "flagFailed": _("The flag could not be saved."),
        "fraudReasons": dict(FraudFlag.Reason.choices),
    }
