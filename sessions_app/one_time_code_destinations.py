"""Where a customer's one-time code goes (kyc.regulations.TAN_AT_END), and
how that address is shown: masked, in the operator's panel, the customer's
frame, the audit trail and the API. Below sessions_app.services (which
refuses a session without an address) and sessions_app.one_time_codes."""

from django.utils.translation import gettext_lazy as _

from kyc.regulations import TAN_AT_END, RuleSet

EMAIL = "email"
SMS = "sms"


def mask_email(email: str) -> str:
    """m***@example.com: enough for the customer to recognise their own."""
    if not email or "@" not in email:
        return ""
    local, _at, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """+49*******5678: the country code and the last four digits."""
    if not phone:
        return ""
    keep_start = 3 if len(phone) > 9 else 1
    return phone[:keep_start] + "*" * max(len(phone) - keep_start - 4, 0) + phone[-4:]


def one_time_code_channel(rule_set: RuleSet) -> str:
    return SMS if rule_set.setting("tan_channel") == SMS else EMAIL


def one_time_code_address(participant, channel: str) -> str:
    """The participant's e-mail address or phone number for ``channel``; blank when missing."""
    return (participant.phone if channel == SMS else participant.email) or ""


def one_time_code_destinations_missing(rule_set: RuleSet, participants: list[dict]) -> dict:
    """{position: {field: [message]}} for each participant (a dict with
    ``email`` and ``phone``) a one-time code could not be sent to under
    ``rule_set``; empty when every one can receive it, or the rule is off."""
    if not rule_set.has(TAN_AT_END):
        return {}
    channel = one_time_code_channel(rule_set)
    field = "phone" if channel == SMS else "email"
    message = (
        _("Needed: this workflow sends a one-time code by SMS at the end of the call.")
        if channel == SMS
        else _("Needed: this workflow sends a one-time code by e-mail at the end of the call.")
    )
    return {
        str(index): {field: [str(message)]}
        for index, participant in enumerate(participants)
        if not participant.get(field)
    }
