"""What a regulated session asks of the customer between the terms and the
call: the consent to recording (RECORDING_CONSENT), the live location
(LIVE_LOCATION) and being in an allowed country (ALLOWED_COUNTRIES).

The pages ask ``precall_due`` which page comes next; ``participant_join``
asks ``join_refusal`` so that a customer who skips the pages (a script
posting to the join URL) is refused by the server all the same. Both read the
session's RuleSet, never its workflow.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from kyc import geo
from kyc.regulations import ALLOWED_COUNTRIES, LIVE_LOCATION, RECORDING_CONSENT, RuleSet

# A new wording of the consent below is a new version: the record says which
# one the customer was shown.
RECORDING_CONSENT_VERSION = "2026-12"


def recording_consent_text(business_name: str) -> list[str]:
    """The consent's paragraphs in the active language (version
    RECORDING_CONSENT_VERSION)."""
    return [
        gettext(
            "This video call is recorded, picture and sound, together with the photos taken during it. "
            "%(business)s keeps the recording as evidence of your identification, as the law requires, "
            "and deletes it when the period it must be kept for has ended."
        )
        % {"business": business_name},
        gettext(
            "Only people who check identifications for %(business)s, and the authorities that supervise it, "
            "may watch the recording."
        )
        % {"business": business_name},
    ]


RECORDING_CONSENT_AGREE = _("I agree that this call is recorded, picture and sound, and kept as evidence.")

# What the customer still has to do, in order.
DUE_RECORDING_CONSENT = "recording_consent"
DUE_LOCATION = "location"
DUE_COUNTRY = "country"


@dataclass(frozen=True)
class CountryProblem:
    """Why the customer's place is not allowed: which of the two countries
    (the IP address's, the location's) is outside ``allowed``."""

    allowed: tuple[str, ...]
    ip_country: str
    location_country: str
    ip_allowed: bool
    location_allowed: bool


def allowed_countries(rules: RuleSet) -> tuple[str, ...]:
    return tuple(str(code).upper() for code in (rules.setting("allowed_countries") or ()))


def latest_location(participant):
    return participant.locations.order_by("-received_at", "-pk").first()


def location_fresh(location, *, now: datetime | None = None) -> bool:
    if location is None:
        return False
    age = (now or timezone.now()) - location.received_at
    return age <= timedelta(seconds=settings.GEO_LOCATION_MAX_AGE_SECONDS)


def country_problem(participant, *, ip_address: str | None) -> CountryProblem | None:
    """Under ALLOWED_COUNTRIES: the country of the address the customer is
    on now and, under LIVE_LOCATION, of their newest location must both be
    allowed. An unknown country (a private network, no position) is not."""
    rules = RuleSet.of(participant.session)
    if not rules.has(ALLOWED_COUNTRIES):
        return None
    allowed = allowed_countries(rules)
    if not allowed:
        return None  # the workflow's list is empty: every country (its help text says so)
    ip_country = geo.ip_country_or_assumed(ip_address)
    ip_allowed = bool(ip_country) and ip_country in allowed
    location_country = ""
    location_allowed = True
    if rules.has(LIVE_LOCATION):
        location = latest_location(participant)
        location_country = location.location_country if location else ""
        location_allowed = bool(location_country) and location_country in allowed
    if ip_allowed and location_allowed:
        return None
    return CountryProblem(allowed, ip_country, location_country, ip_allowed, location_allowed)


def precall_due(participant, *, ip_address: str | None) -> str | None:
    """The next pre-call page this customer must see, or None: ready to join."""
    rules = RuleSet.of(participant.session)
    if rules.has(RECORDING_CONSENT):
        consent = getattr(participant, "recording_consent", None)
        if consent is None or not consent.accepted:
            return DUE_RECORDING_CONSENT
    if rules.has(LIVE_LOCATION) and not location_fresh(latest_location(participant)):
        return DUE_LOCATION
    if country_problem(participant, ip_address=ip_address) is not None:
        return DUE_COUNTRY
    return None


def join_refusal(participant, *, ip_address: str | None) -> str | None:
    """Why the server refuses this customer's join, in words, or None."""
    due = precall_due(participant, ip_address=ip_address)
    if due == DUE_RECORDING_CONSENT:
        return gettext("Please agree to the recording of the call first.")
    if due == DUE_LOCATION:
        return gettext("Please share your location first.")
    if due == DUE_COUNTRY:
        return country_refusal_text(country_problem(participant, ip_address=ip_address))
    return None


def country_refusal_text(problem: CountryProblem) -> str:
    return gettext("This verification can only be done from %(countries)s.") % {
        "countries": geo.country_names(problem.allowed)
    }


def location_summary(location) -> dict | None:
    """A location for the operator's panel and the review: coordinates,
    accuracy, the browser's time and our time, the two countries."""
    if location is None:
        return None
    return {
        "latitude": round(location.latitude, 6),
        "longitude": round(location.longitude, 6),
        "accuracy_m": round(location.accuracy_m),
        "located_at": location.located_at.isoformat(),
        "received_at": location.received_at.isoformat(),
        "ip_country": location.ip_country,
        "ip_country_name": geo.country_name(location.ip_country) if location.ip_country else "",
        "location_country": location.location_country,
        "location_country_name": geo.country_name(location.location_country) if location.location_country else "",
    }


def overlay_text(location) -> str:
    """The line burned into the composed recording next to the clock: plain
    ASCII, so it needs no font beyond the clock's and no escaping."""
    return (
        f"GPS {location.latitude:.5f}, {location.longitude:.5f} +/-{location.accuracy_m:.0f} m "
        f"at {location.located_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    )
