"""The error body of every JSON endpoint outside the API (the customer's
page, the console, recording uploads). The API answers problem+json
(operators.api.problems) instead, as its schema says."""

from django.http import JsonResponse


def json_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)
