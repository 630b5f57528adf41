from django.urls import path

from operators.compliance import recording_views

app_name = "recordings"

urlpatterns = [
    path("<str:evidence_id>", recording_views.recording_file, name="file"),
    path("sessions/<str:session_id>/", recording_views.recording_review, name="review"),
]
