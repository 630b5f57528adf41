from django.urls import path

from sessions_app import views

app_name = "sessions_app"

urlpatterns = [
    path("v/<str:token>", views.link_open, name="link"),
    path("call/", views.call_page, name="call"),
    path("call/terms/accept", views.terms_accept, name="terms_accept"),
    path("call/terms/decline", views.terms_decline, name="terms_decline"),
    path("call/recording-consent", views.recording_consent_answer, name="recording_consent"),
    path("call/location", views.location_share, name="location"),
    path("call/join", views.join, name="join"),
    path("call/one-time-code", views.one_time_code_enter, name="one_time_code_enter"),
    path("call/try-again", views.try_again, name="try_again"),
    path("call/book", views.booking_slots, name="booking_slots"),
    path("call/book/cancel", views.booking_cancel, name="booking_cancel"),
    path("call/booking.ics", views.booking_calendar, name="booking_calendar"),
]
