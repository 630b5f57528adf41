"""Where the customer is, offline: the country of an IP address and the
country of a pair of coordinates, and country names in the reader's language.

Both lookups use data shipped with a package (no request leaves the server
while a customer waits, and nothing about them reaches a third party):
``geoip2fast`` for addresses (its own compressed table of networks) and
``reverse_geocode`` for coordinates (GeoNames' cities of 1,000 people or more:
the country of the nearest such place). Both load their data once per process
on first use, in about a second, so the first customer after a restart pays it.

A private, loopback or link-local address has no country. A development set-up
(or a test) reaching the server from 127.0.0.1 names the country to assume with
GEO_PRIVATE_NETWORK_COUNTRY; ``manage.py check --deploy`` refuses it.
"""

import gettext
import ipaddress
import json
import math
import threading
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import translation

_lock = threading.Lock()
_geoip = None

# The system's iso-codes (Debian's "iso-codes" package, in the image): the
# ISO 3166 names and their translations, so "India" reads "Indien" in German.
ISO_CODES_JSON = Path("/usr/share/iso-codes/json/iso_3166-1.json")
ISO_CODES_LOCALE_DIR = "/usr/share/locale"


def _geoip_reader():
    global _geoip
    with _lock:
        if _geoip is None:
            from geoip2fast import GeoIP2Fast  # loads its table: once, on first use

            _geoip = GeoIP2Fast(verbose=False)
    return _geoip


def _parsed(address: str | None):
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket: the table knows it as IPv4.
    return parsed.ipv4_mapped or parsed if parsed.version == 6 else parsed


def _is_public(address: str | None) -> bool:
    parsed = _parsed(address)
    return parsed is not None and parsed.is_global


def ip_country(address: str | None) -> str:
    """The ISO 3166 alpha-2 code of ``address``'s country, upper case, or ""
    when unknown (no address, a private network, a range the table lacks)."""
    if not _is_public(address):
        return ""
    result = _geoip_reader().lookup(str(_parsed(address)))
    code = (getattr(result, "country_code", "") or "").upper()
    return code if len(code) == 2 and code.isalpha() else ""


def ip_country_or_assumed(address: str | None) -> str:
    """``ip_country``, or for an address of a private network the country
    GEO_PRIVATE_NETWORK_COUNTRY names (development and tests only)."""
    country = ip_country(address)
    if country or not address or _is_public(address):
        return country
    return (getattr(settings, "GEO_PRIVATE_NETWORK_COUNTRY", "") or "").upper()


# Farther than this from any place of 1,000 people (the open sea, a made-up
# position), a position has no country.
NEAREST_PLACE_MAX_KM = 100


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def location_country(latitude: float, longitude: float) -> str:
    """The ISO code of the country of the nearest populated place to the
    coordinates, or "" when none is near enough to say."""
    import reverse_geocode  # its k-d tree is built once, on first use

    with _lock:
        place = reverse_geocode.get((latitude, longitude)) or {}
    code = place.get("country_code", "") or ""
    if "latitude" in place and _distance_km((latitude, longitude), (place["latitude"], place["longitude"])) > NEAREST_PLACE_MAX_KM:
        return ""
    return code.upper() if len(code) == 2 else ""


@lru_cache(maxsize=1)
def _english_names() -> dict[str, str]:
    try:
        entries = json.loads(ISO_CODES_JSON.read_text())["3166-1"]
    except (OSError, ValueError, KeyError):
        return {}
    return {entry["alpha_2"]: entry.get("common_name") or entry["name"] for entry in entries}


@lru_cache(maxsize=8)
def _catalogue(language: str):
    return gettext.translation("iso_3166-1", localedir=ISO_CODES_LOCALE_DIR, languages=[language], fallback=True)


def country_name(code: str, language: str | None = None) -> str:
    """A country's name in ``language`` (the active one by default): the
    code itself where the system has no name for it."""
    code = (code or "").upper()
    english = _english_names().get(code)
    if not english:
        return code
    language = (language or translation.get_language() or "en").split("-")[0]
    return _catalogue(language).gettext(english)


def country_names(codes, language: str | None = None) -> str:
    """Names joined for a sentence: "India", "India, Nepal"."""
    return ", ".join(country_name(code, language) for code in codes)


def deploy_check(app_configs=None, **kwargs):
    """``manage.py check --deploy``: a production server never assumes a
    country for private addresses (every customer behind a misconfigured
    proxy would be "in India")."""
    from django.core.checks import Error

    if getattr(settings, "GEO_PRIVATE_NETWORK_COUNTRY", ""):
        return [
            Error(
                "GEO_PRIVATE_NETWORK_COUNTRY is set: clients on a private network are assumed to be in "
                f"{settings.GEO_PRIVATE_NETWORK_COUNTRY}. It is for development and tests only.",
                hint="Unset GEO_PRIVATE_NETWORK_COUNTRY; behind a reverse proxy set TRUSTED_PROXIES instead.",
                id="verity.E020",
            )
        ]
    return []
