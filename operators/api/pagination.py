from urllib.parse import urlsplit

from django.conf import settings
from rest_framework import serializers
from rest_framework.pagination import CursorPagination


class SessionCursorPagination(CursorPagination):
    """Newest first. A cursor stays right while sessions are added, unlike page numbers."""

    ordering = ("-created_at", "-pk")
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request):
        from rest_framework.exceptions import NotFound

        try:
            return super().decode_cursor(request)
        except NotFound:
            # A bad cursor is the caller's mistake in a named parameter, not a missing page.
            raise serializers.ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from None

    def encode_cursor(self, cursor):
        # Built on PUBLIC_BASE_URL like every link we hand out, never on the
        # request's Host header.
        url = urlsplit(super().encode_cursor(cursor))
        return f"{settings.PUBLIC_BASE_URL}{url.path}?{url.query}"
