from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import include, path


def health(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", lambda request: redirect("operators:console")),
    path("healthz", health),
    path("admin/", admin.site.urls),
    path("api/v1/", include("operators.api.urls")),
    path("console/", include("operators.urls")),
    path("", include("sessions_app.urls")),
]
