from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import include, path

from operators.security_views import admin_login


def health(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", lambda request: redirect("operators:console")),
    path("healthz", health),
    path("admin/login/", admin_login),  # through the operators' sign-in: the second factor applies
    path("admin/", admin.site.urls),
    path("api/v1/", include("operators.api.urls")),
    path("console/", include("operators.urls")),
    path("recordings/", include("operators.compliance.urls")),
    path("", include("sessions_app.urls")),
    path("", include("workflows.urls")),
]
