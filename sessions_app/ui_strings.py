"""Texts the customer page's JavaScript shows, translated on the server
and handed to the page as JSON (one catalogue: locale/*/django.po)."""

from django.utils.translation import gettext as _


def customer_strings() -> dict[str, str]:
    return {
        "you": _('You'),
        "operator": _('Operator'),
        "muted": _('Muted'),
        "cameraOff": _('Camera off'),
        "queuePosition": _('You are number %(position)s in the queue.'),
        "queueWaiting": _('Please stay on this page; an operator will be with you shortly.'),
        "waitingOthers": _('Waiting for: %(names)s'),
        "tooDark": _('Too dark: please turn on a light or face a window.'),
        "tooBright": _('Too bright: please move away from direct light.'),
        "lightOk": _('Fine'),
        "errPermission": _('Your browser blocked the camera or microphone. Allow access in the address bar (the camera icon), then try again.'),
        "errNoDevice": _('We could not find a camera or microphone. Connect one, then try again.'),
        "errInUse": _('Your camera or microphone is being used by another application. Close it, then try again.'),
        "errUnsupported": _('This browser cannot make video calls. Please use a current version of Chrome, Firefox, Safari or Edge.'),
        "errGeneric": _('Your camera or microphone could not be started. Try again, or use another browser.'),
        "errJoin": _('We could not connect you. Please try again.'),
        "errLink": _('This link can no longer be used.'),
        "replaced": _('This call was opened in another window.'),
        "approved": _('Your identity has been verified'),
        "approvedText": _('Thank you. The company that sent you the link will be in touch.'),
        "rejected": _('We could not verify your identity'),
        "rejectedText": _('The company that sent you the link will contact you about the next steps.'),
        "retry": _('We will contact you'),
        "retryText": _('We need to repeat part of the verification. The company that sent you the link will contact you.'),
        "waitingTitle": _('Connecting you to an operator…'),
        "waitingNoOperatorTitle": _('No operator is free right now'),
        "estimateNext": _('You are next.'),
        "estimateMinutes": _('Estimated wait: about %(minutes)s min.'),
        "estimateNoData": _('There are too few recent calls to estimate your wait yet.'),
        "estimateNoFitting": _('The operators who speak your language are all busy; we cannot estimate your wait yet.'),
        "callEnded": _('The call has ended'),
        "callEndedText": _('Thank you. The company that sent you the link will let you know the result of your verification. You may close this window.'),
        "prompt_document_front": _('Please hold the front of your identity document up to the camera.'),
        "prompt_document_back": _('Please turn your document over and show the back.'),
        "prompt_look_at_camera": _('Please look straight into the camera.'),
        "prompt_turn_left": _('Please turn your head slowly to the left.'),
        "prompt_turn_right": _('Please turn your head slowly to the right.'),
        "prompt_look_up": _('Please look up.'),
        "prompt_blink": _('Please blink twice.'),
        "prompt_move_closer": _('Please move closer to the camera.'),
        "prompt_hold_still": _('Please hold still.'),
        "prompt_tilt_document": _("Please tilt the document slowly towards you."),
        "prompt_question": _("Please answer the operator's question."),
        # Shown while the camera takes a challenge's burst (the customer keeps
        # doing what the instruction says; "Hold still" would be wrong here).
        "challengeBurst": _("Keep going: taking pictures…"),
        "sendAnswer": _("Send answer"),
        "answerSent": _("Sent. The operator can see your answer; you may still change it."),
        "answerNotSent": _("Your answer could not be sent. Please try again."),
    }
