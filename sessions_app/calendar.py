"""The booked call as an iCalendar event (RFC 5545, RFC 5546 iTIP), for the
customer's e-mails (operators.scheduling_notices) and the link page's download.

One event per booking: its UID never changes while the booking is moved, and
SEQUENCE grows with each change, so a calendar updates (METHOD:REQUEST) or
removes (METHOD:CANCEL) the event it already holds instead of adding another.
Times are UTC instants: every calendar shows them in its owner's zone.

The event carries no link: only the hash of a customer's link is kept, and a
calendar entry is synced to places a link should not go. It says to use the
link from the invitation e-mail.
"""

from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from sessions_app.models import Booking

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"


def booking_ics(booking: Booking, *, method: str, language: str | None = None) -> bytes:
    """The booking's calendar file. ``method``: REQUEST (an invitation or its
    update), CANCEL (the booking was cancelled) or PUBLISH (a download)."""
    session = booking.session
    participant = session.participants.order_by("position").first()
    with translation.override(language or (participant.language if participant else None) or settings.LANGUAGE_CODE):
        summary = _("Video identification with %(business)s") % {"business": session.business.name}
        description = _(
            "Your video call to verify your identity. A few minutes before the time, open the link from your "
            "invitation e-mail in the browser of a device with a camera, and have your identity document ready."
        )
    calendar = Calendar()
    calendar.add("prodid", "-//Verity//Booked video identification//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", booking.ical_uid)
    event.add("sequence", booking.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", summary)
    event.add("description", description)
    cancelled = method == CANCEL or booking.state == Booking.State.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    _name, sender = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{sender or 'no-reply@localhost'}")
    organizer.params["cn"] = vText(session.business.name)
    event["organizer"] = organizer
    if participant is not None and participant.email and method != PUBLISH:
        attendee = vCalAddress(f"mailto:{participant.email}")
        attendee.params["cn"] = vText(participant.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()
