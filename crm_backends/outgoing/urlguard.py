"""Where a shop's webhooks may go: https only, to hosts that resolve only to public addresses.

Why: the URL is typed by a shop owner, and our workers sit on a private network (the database, Redis,
a cloud's metadata service at 169.254.169.254). Checked when the URL is saved and again before every
delivery, since a name's DNS can change after it was saved. OUTGOING_WEBHOOKS_ALLOW_PRIVATE lifts the
check (local development, the tests' loopback receiver); it is off by default.
"""

import ipaddress
import socket

from django.conf import settings
from django.utils.translation import gettext as _
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url


def url_problem(url: str) -> str | None:
    """Why a webhook may not be sent to `url` (a sentence for the owner), or None when it may."""
    parsed = _parse(url)
    if parsed is None:
        return _("This is not a valid URL.")
    scheme, host, port = parsed
    allow_private = settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE
    if scheme != "https" and not (allow_private and scheme == "http"):
        return _("Use an https:// URL.")
    if allow_private:
        return None
    addresses = _addresses(host, port)
    if not addresses:
        return _("The host name %(host)s does not resolve.") % {"host": host}
    if any(not is_public(address) for address in addresses):
        return _("%(host)s is a private, local or reserved address: webhooks only go to public hosts.") % {
            "host": host
        }
    return None


def is_public(address: str) -> bool:
    """A globally routable unicast address; an IPv4-mapped IPv6 address is judged as its IPv4 one, and a
    6to4 one by the IPv4 address inside it too."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour and not is_public(str(ip.sixtofour)):
        return False  # 6to4 (2002::/16) carries an IPv4 address a relay would deliver to
    refused = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
    return ip.is_global and not refused


def _parse(url) -> tuple[str, str, int] | None:
    # urllib3's parser is the one `requests` connects with; anything it reads ambiguously (credentials,
    # spaces, backslashes) is refused rather than guessed at.
    if not isinstance(url, str) or "\\" in url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = parse_url(url)
    except (LocationParseError, ValueError):
        return None
    host = (parts.host or "").strip("[]").rstrip(".").lower()
    if not parts.scheme or not host or parts.auth is not None:
        return None
    scheme = parts.scheme.lower()
    return scheme, host, parts.port or (443 if scheme == "https" else 80)


def _addresses(host: str, port: int) -> set[str]:
    try:
        return {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return set()
