from django.conf import settings

from kyc.origins import public_websocket_origin


def content_security_policy() -> str:
    # No inline script or style anywhere: page data travels in json_script
    # blocks. Sockets only to this site: browsers differ on whether 'self'
    # covers ws(s):, so its websocket origin is named too.
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' blob: data:",
            "media-src 'self' blob:",
            f"connect-src 'self' {public_websocket_origin()}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy())
        response.setdefault("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
        if not request.path.startswith(settings.STATIC_URL):
            # Everything outside static files may carry personal data.
            response.setdefault("Cache-Control", "no-store")
        return response
