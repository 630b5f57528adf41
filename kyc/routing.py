from django.urls import path

from operators.consumers import QueueConsumer
from sessions_app.consumers import CallConsumer

websocket_urlpatterns = [
    path("ws/call/<str:session_id>/", CallConsumer.as_asgi()),
    path("ws/console/queue/", QueueConsumer.as_asgi()),
]
