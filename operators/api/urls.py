from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from operators.api import schema, views  # noqa: F401  (schema registers the bearer scheme)
from operators.api.docs import SwaggerDocsView

app_name = "api"

urlpatterns = [
    path("sessions", views.SessionListCreateView.as_view(), name="sessions"),
    path("sessions/<str:session_id>", views.SessionDetailView.as_view(), name="session"),
    path("sessions/<str:session_id>/cancel", views.SessionCancelView.as_view(), name="session_cancel"),
    path(
        "sessions/<str:session_id>/participants/<str:participant_id>/revoke-link",
        views.ParticipantLinkRevokeView.as_view(),
        name="participant_revoke_link",
    ),
    path(
        "sessions/<str:session_id>/participants/<str:participant_id>/send-link",
        views.ParticipantLinkSendView.as_view(),
        name="participant_send_link",
    ),
    path("slots", views.SlotListView.as_view(), name="slots"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI, checked in Chromium under the site's CSP (see
    # SwaggerDocsView). Redoc is left out: it injects its styles inline.
    path("docs/", SwaggerDocsView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*$", views.NotFoundView.as_view()),
]
