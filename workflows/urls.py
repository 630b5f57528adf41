from django.urls import path

from workflows import views

app_name = "workflows"

urlpatterns = [
    path("call/captures/<str:capture_id>", views.capture_upload, name="capture_upload"),
    path("call/answers", views.question_answer, name="question_answer"),
]
