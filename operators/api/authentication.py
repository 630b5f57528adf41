from dataclasses import dataclass

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.models import Business
from operators.integration import api_key_authenticate
from operators.models import ApiKey


@dataclass(frozen=True)
class ApiClient:
    """``request.user`` of an API request: the business behind the key."""

    business: Business
    api_key: ApiKey
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    pk = None  # never a Django user: nothing keyed on users may mistake it for one

    def __str__(self):
        return f"API key {self.api_key.prefix}… of {self.business}"


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>``. A missing header is "not
    authenticated"; a malformed, unknown or revoked key is "authentication
    failed" with the same message, so a caller learns nothing about keys."""

    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the API key as 'Authorization: Bearer <key>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.") from None
        api_key = api_key_authenticate(raw_key=raw)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return ApiClient(business=api_key.business, api_key=api_key), api_key

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when the key is missing or wrong.
        return 'Bearer realm="verity"'
