"""The language of a websocket, chosen as LocaleMiddleware chooses a page's:
the language cookie, then the browser's Accept-Language, then the default.
A socket's messages (the operator's call state, with the checks' sentences)
are then in the language of the page that opened it."""

from types import SimpleNamespace

from django.conf import settings
from django.utils.translation import get_language_from_request, get_language_info, gettext


def language_for_scope(scope) -> str:
    headers = dict(scope.get("headers") or [])
    request = SimpleNamespace(
        COOKIES=scope.get("cookies") or {},
        META={"HTTP_ACCEPT_LANGUAGE": headers.get(b"accept-language", b"").decode("latin-1")},
        path_info="/",
    )
    return get_language_from_request(request) or settings.LANGUAGE_CODE


def language_primary(code: str) -> str:
    """The primary subtag of a language code, lower case: "de-AT" is "de"."""
    return (code or "").replace("_", "-").split("-")[0].strip().lower()


def page_language_code(code: str) -> str:
    """The code of settings.LANGUAGES that ``code`` is ("de-at" is "de"), or
    blank when the product does not ship it."""
    primary = language_primary(code)
    return primary if primary in {known for known, _name in settings.LANGUAGES} else ""


def language_name(code: str) -> str:
    """A language's name in the reader's language, for every page that names
    one (the console's queue, routing's reasons, the supervisor dashboard):
    a regional code by its language ("de-at" is German), any language Django
    knows by its name, "unknown" for none, else the code itself."""
    if not code:
        return gettext("unknown")
    try:
        return str(get_language_info(page_language_code(code) or language_primary(code))["name_translated"])
    except KeyError:
        return code
