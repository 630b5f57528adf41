"""What the checks say, in the reader's language.

The engines (workflows/checks/) are Django-free and store each reason as a
code, an English sentence, and the sentence's template with its values
(``results.reason``). Where a person reads a reason (the operator's panel,
the compliance review, the API), it is made again from the template in the
active language, with codes in its values (a check, a challenge action, an
MRZ field) said by their names. Results stored before templates existed keep
their English sentence.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from workflows.models import CheckResult
from workflows.steps import LIVENESS_ACTION_LABELS

MRZ_FIELD_LABELS = {
    "document_code": _("Document code"),
    "issuing_state": _("Issuing state"),
    "surname": _("Surname"),
    "given_names": _("Given names"),
    "document_number": _("Document number"),
    "nationality": _("Nationality"),
    "birth_date": _("Date of birth"),
    "sex": _("Sex"),
    "expiry_date": _("Expiry date"),
    "optional_data": _("Optional data"),
    "optional_data_2": _("Optional data"),
    "composite": _("Composite check digit"),
}
# The recommendation's own words for a check it could not count.
RECOMMENDATION_STATUS_LABELS = {"pending": _("Still running"), "missing": _("Missing")}


def _named(key: str, value):
    """A value as a person reads it: codes by their names."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_named(key, item)) for item in value)
    if key == "check":
        return CheckResult.Kind(value).label if value in CheckResult.Kind.values else value
    if key == "action":
        return LIVENESS_ACTION_LABELS.get(value, value)
    if key in ("field", "fields"):
        return MRZ_FIELD_LABELS.get(value, str(value).replace("_", " "))
    if key == "status":
        return check_status_label(value)
    return value


def check_status_label(status: str) -> str:
    """A result's status, or the recommendation's "pending"/"missing", by name."""
    if status in CheckResult.Status.values:
        return str(CheckResult.Status(status).label)
    return str(RECOMMENDATION_STATUS_LABELS.get(status, status))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def reason_text(reason: dict) -> str:
    """One reason (a stored dict, or a recommendation's) in the active language."""
    template = reason.get("template") or ""
    if not template:
        return reason.get("message", "")
    params = {key: _named(key, value) for key, value in (reason.get("params") or {}).items()}
    try:
        return _sentence(gettext(template) % params)
    except (KeyError, TypeError, ValueError):
        # A translation that lost a placeholder must not hide the reason.
        return reason.get("message", "")


def advice_text(advice: str) -> str:
    """A retake's advice: an English sentence the engines marked for translation."""
    return gettext(advice) if advice else ""
