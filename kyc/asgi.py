import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyc.settings")
# Django must be set up before anything imports models (the consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddleware, get_user  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from channels.sessions import CookieMiddleware, SessionMiddleware  # noqa: E402
from django.utils.functional import SimpleLazyObject  # noqa: E402

from kyc.origins import is_site_origin  # noqa: E402
from kyc.routing import websocket_urlpatterns  # noqa: E402


class SiteOriginValidator(OriginValidator):
    """channels' OriginValidator, matching the site's exact origins (scheme,
    host and port: kyc/origins.py), read when a socket opens. channels'
    AllowedHostsOriginValidator compared the host only, so a page on another
    port or scheme of the same host opened sockets with the user's cookie."""

    def __init__(self, application):
        super().__init__(application, allowed_origins=[])

    def valid_origin(self, parsed_origin):
        return parsed_origin is not None and is_site_origin(parsed_origin.geturl())


class LazyAuthMiddleware(AuthMiddleware):
    """channels' AuthMiddleware, but the user is read when the consumer first
    asks for it, inside the consumer's own database work, not in a hop of its
    own to the one database thread before the consumer starts: a connect
    then reaches that thread once (its session, its user and its
    authorisation together). Read it only in sync code (database_sync_to_async)."""

    async def resolve_scope(self, scope):
        scope["user"] = SimpleLazyObject(lambda: get_user.func(scope))


def LazyAuthMiddlewareStack(inner):  # noqa: N802 (named like channels' AuthMiddlewareStack)
    return CookieMiddleware(SessionMiddleware(LazyAuthMiddleware(inner)))


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The Origin must be the site's own: no cross-site websocket hijacking.
        "websocket": SiteOriginValidator(LazyAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
