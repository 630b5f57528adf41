from django.contrib import admin
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import include, path

from operators.security_views import admin_login


def health(request):
    """The process is up (a liveness probe): nothing else is asked."""
    return HttpResponse("ok", content_type="text/plain")


def ready(request):
    """The process can serve (a readiness probe): a query on the database,
    through the pool where there is one, and a round trip to the cache (Redis
    in production, where throttles and presence live). 503 names what fails."""
    failing = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        failing.append("database")
    try:
        cache.set("readyz", "1", 5)
        if cache.get("readyz") != "1":
            failing.append("cache")
    except Exception:  # the cache backend's own errors (redis-py's) have no common base
        failing.append("cache")
    return JsonResponse({"ready": not failing, "failing": failing}, status=503 if failing else 200)


urlpatterns = [
    path("", lambda request: redirect("operators:console")),
    path("healthz", health),
    path("readyz", ready),
    path("admin/login/", admin_login),  # through the operators' sign-in: the second factor applies
    path("admin/", admin.site.urls),
    path("api/v1/", include("operators.api.urls")),
    path("console/", include("operators.urls")),
    path("recordings/", include("operators.compliance.urls")),
    path("supervisor/", include("operators.supervisor.urls")),
    path("", include("sessions_app.urls")),
    path("", include("workflows.urls")),
]
