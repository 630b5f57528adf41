from django.contrib.auth import views as auth_views
from django.urls import path

from operators import recording_views, security_views, views

app_name = "operators"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code", security_views.totp_verify, name="totp_verify"),
    path("security/two-step", security_views.totp_settings, name="totp_settings"),
    path("logout/", auth_views.LogoutView.as_view(next_page="operators:login"), name="logout"),
    path("", views.console, name="console"),
    path("sessions/<str:session_id>/answer", views.answer, name="answer"),
    path("calls/<str:session_id>/", views.call, name="call"),
    path("sessions/<str:session_id>/flag", views.flag_session, name="flag"),
    path("calls/<str:session_id>/decide", views.decide, name="decide"),
    path("calls/<str:session_id>/end", views.end_call, name="end"),
    path("calls/<str:session_id>/participants/<str:participant_id>/remove", views.remove_participant, name="remove_participant"),
    path(
        "calls/<str:session_id>/participants/<str:participant_id>/steps/<int:position>/<str:action>",
        views.step_action,
        name="step_action",
    ),
    path(
        "calls/<str:session_id>/participants/<str:participant_id>/challenges/<str:code>",
        views.challenge_request,
        name="challenge_request",
    ),
    path(
        "calls/<str:session_id>/participants/<str:participant_id>/one-time-code",
        views.one_time_code_send,
        name="one_time_code_send",
    ),
    path("calls/<str:session_id>/captures/<str:capture_id>", views.operator_capture_upload, name="capture_upload"),
    path("evidence/<str:evidence_id>", views.evidence_file, name="evidence"),
    path("calls/<str:session_id>/recordings", recording_views.recording_start, name="recording_start"),
    path("calls/<str:session_id>/recordings/<str:recording_id>", recording_views.recording_status, name="recording"),
    path(
        "calls/<str:session_id>/recordings/<str:recording_id>/chunks/<int:index>",
        recording_views.recording_chunk,
        name="recording_chunk",
    ),
    path(
        "calls/<str:session_id>/recordings/<str:recording_id>/finish",
        recording_views.recording_finish,
        name="recording_finish",
    ),
    path("calls/<str:session_id>/recording-progress", recording_views.recording_progress, name="recording_progress"),
]
