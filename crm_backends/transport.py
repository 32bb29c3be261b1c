"""The one road from a CRM backend to the network: only to the vendor's own hosts (or hosts ops allow
in CRM_ALLOWED_HOSTS), never redirected, and the vendor's error cut to a short summary.

Why so strict: a connection's options (`api_base`, `login_url`) and the `instance_url` Salesforce
answers decide where credentials and requests go. Without this, a shop owner could aim the install-wide
token at a server of their own, or read back the answers of services on our private network (SSRF).
Everything that leaves a backend goes through `request()`, so the check holds whatever set the URL.
"""

import re

from django.conf import settings
from django.utils.html import strip_tags
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from coccinelle import http
from coccinelle.http import ExternalServiceError as CrmError  # crm_backends.base.CrmError

# Where each vendor's API lives. Salesforce: login.salesforce.com, test.salesforce.com (sandboxes),
# <domain>.my.salesforce.com and <domain>--<sandbox>.sandbox.my.salesforce.com, older instances on
# force.com. `*.salesforce-setup.com` only serves Setup pages, never the API, so it is not here.
API_DOMAINS = {
    "hubspot": ("hubapi.com",),
    "salesforce": ("salesforce.com", "force.com"),
}
# Where links into each vendor's web app may point (HubSpot's app is on hubspot.com, not hubapi.com).
LINK_DOMAINS = {
    "hubspot": ("hubspot.com",),
    "salesforce": ("salesforce.com", "force.com"),
}
LABELS = {"hubspot": "HubSpot", "salesforce": "Salesforce"}
SUMMARY_LENGTH = 200
_HOST = re.compile(r"[a-z0-9.:\-]+")  # letters, digits, dots, hyphens (colons: IPv6 in CRM_ALLOWED_HOSTS)


def _scheme_and_host(url) -> tuple[str, str] | None:
    """(scheme, host) as `requests` will see them, or None for anything ambiguous.

    urllib3's parser is the one `requests` connects with; a URL that other parsers read differently
    (a backslash, credentials before an `@`, spaces) is refused rather than guessed at.
    """
    if not isinstance(url, str) or "\\" in url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = parse_url(url)
    except (LocationParseError, ValueError):
        return None
    host = (parts.host or "").strip("[]").rstrip(".").lower()
    if parts.auth is not None or not parts.scheme or not _HOST.fullmatch(host):
        return None
    return parts.scheme.lower(), host


def _on(host: str, domains) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def extra_hosts() -> set[str]:
    return {h.strip().rstrip(".").lower() for h in settings.CRM_ALLOWED_HOSTS if h.strip()}


def is_vendor_url(url, vendor: str) -> bool:
    """An https URL on the vendor's own API hosts: the only place install-wide credentials may go."""
    parts = _scheme_and_host(url)
    return parts is not None and parts[0] == "https" and _on(parts[1], API_DOMAINS[vendor])


def url_problem(url, vendor: str) -> str | None:
    """Why a backend may not call this URL, or None when it may."""
    if is_vendor_url(url, vendor):
        return None
    parts = _scheme_and_host(url)
    if parts and parts[0] in ("http", "https") and parts[1] in extra_hosts():
        return None
    domains = ", ".join("*." + d for d in API_DOMAINS[vendor])
    return (
        f"{_shown(url)} is not a {LABELS[vendor]} address: use https on {domains} "
        f"(other hosts only if CRM_ALLOWED_HOSTS lists them)"
    )


def check_url(url, vendor: str) -> None:
    problem = url_problem(url, vendor)
    if problem:
        raise CrmError(f"{LABELS[vendor]}: {problem}", permanent=True)


def safe_link(url, vendor: str) -> str:
    """`url` if it may be shown as a link into the vendor's app (https, vendor or allowed host), else ""."""
    parts = _scheme_and_host(url)
    if parts is None or parts[0] != "https":
        return ""
    return url if _on(parts[1], LINK_DOMAINS[vendor]) or parts[1] in extra_hosts() else ""


def request(vendor: str, method: str, url: str, **kwargs):
    """http.request, after checking the host; redirects are refused (they could lead anywhere) and an
    error carries a short summary of what the vendor said, never its whole body."""
    check_url(url, vendor)
    try:
        response = http.request(method, url, allow_redirects=False, **kwargs)
    except CrmError as exc:
        if exc.status is None:
            raise  # network error or timeout: the message names the host only
        raise CrmError(
            f"{method} {_host(url)}: HTTP {exc.status}: {summary(exc.body)}",
            permanent=exc.permanent,
            status=exc.status,
            body=exc.body,
            headers=exc.headers,
        ) from None
    if response.is_redirect or 300 <= response.status_code < 400:
        raise CrmError(
            f"{method} {_host(url)}: HTTP {response.status_code}: a redirect, not followed",
            permanent=True,
            status=response.status_code,
        )
    return response


def json_body(response, expect=dict):
    """The answer's JSON, of the expected shape, or a CrmError saying what came instead."""
    where = f"{response.request.method} {_host(response.url)}: HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        raise CrmError(f"{where}: the answer is not JSON ({kind[:60]})", permanent=True) from None
    if not isinstance(body, expect):
        raise CrmError(f"{where}: unexpected answer ({type(body).__name__} of JSON)", permanent=True)
    return body


def summary(body) -> str:
    """What the vendor said, short: its error code and message when the body is JSON (HubSpot
    `{category, message}`, Salesforce `[{errorCode, message}]`, OAuth `{error, error_description}`),
    else the start of the text with any markup removed. Escaping is left to the templates."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, dict):
        nested = body.get("error") if isinstance(body.get("error"), dict) else {}
        code = _first_text(body, "errorCode", "error", "category") or _first_text(nested, "code", "type")
        text = _first_text(body, "message", "error_description") or _first_text(nested, "message")
        said = ": ".join(part for part in (code, text) if part) or "an error without a message"
        return shorten(said)
    text = strip_tags(str(body or ""))
    return shorten(text) or "an empty answer"


def shorten(text: str, length: int = SUMMARY_LENGTH) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _first_text(mapping: dict, *keys) -> str:
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value)
    return ""


def _host(url: str) -> str:
    parts = _scheme_and_host(url)
    return parts[1] if parts else "?"


def _shown(url) -> str:
    return repr(shorten(str(url), 80))
