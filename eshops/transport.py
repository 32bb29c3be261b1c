"""The one road from the e-shop sync to the network, and what a connection's addresses may be.

A Shopify access token opens the store's admin: it must only ever travel to `https://<store>.myshopify.com`
(the domain is validated on save, and every URL again before each call, whatever built it). WooCommerce
keys go to the shop's own site over https only. Hosts listed in ESHOPS_ALLOWED_HOSTS (a local fake,
staging) are allowed over http too, as CRM_ALLOWED_HOSTS does for the CRMs. Redirects are never
followed: they could lead the credentials anywhere.
"""

import re

from django.conf import settings
from django.utils.translation import gettext
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from coccinelle import http
from coccinelle.http import ExternalServiceError as EshopError

SHOPIFY_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\.myshopify\.com")
_HOST = re.compile(r"[a-z0-9.\-]+")


def _scheme_host(url) -> tuple[str, str] | None:
    """(scheme, host) as requests will connect, or None for anything ambiguous (credentials before an
    @, backslashes, spaces): refused rather than guessed at."""
    if not isinstance(url, str) or "\\" in url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = parse_url(url)
    except (LocationParseError, ValueError):
        return None
    host = (parts.host or "").rstrip(".").lower()
    if parts.auth is not None or not parts.scheme or not _HOST.fullmatch(host):
        return None
    return parts.scheme.lower(), host


def allowed_hosts() -> set[str]:
    return {h.strip().rstrip(".").lower() for h in settings.ESHOPS_ALLOWED_HOSTS if h.strip()}


def shopify_domain_problem(domain: str) -> str | None:
    if SHOPIFY_DOMAIN.fullmatch(domain or ""):
        return None
    return gettext("the store's domain must be its xxx.myshopify.com name (no https://, no path)")


def site_url_problem(url: str) -> str | None:
    parts = _scheme_host(url)
    if parts and (parts[0] == "https" or (parts[0] == "http" and parts[1] in allowed_hosts())):
        return None
    return gettext("the site address must be https://… (http only for hosts in ESHOPS_ALLOWED_HOSTS)")


def url_problem(url: str, provider: str) -> str | None:
    """Why the sync may not call `url` with `provider`'s credentials, or None."""
    parts = _scheme_host(url)
    if parts is None:
        return "not a URL that can be called"
    scheme, host = parts
    if host in allowed_hosts() and scheme in ("http", "https"):
        return None
    if scheme != "https":
        return "only https"
    if provider == "shopify" and not SHOPIFY_DOMAIN.fullmatch(host):
        return "a Shopify token only goes to https://<store>.myshopify.com"
    return None


def connection_errors(connection) -> dict:
    """The form errors of a connection's addresses (the model's clean, the command)."""
    errors = {}
    if connection.provider == "shopify":
        problem = shopify_domain_problem(connection.shopify_domain)
        if problem:
            errors["shopify_domain"] = problem
        if not re.fullmatch(r"\d{4}-\d{2}|unstable", connection.api_version or ""):
            errors["api_version"] = gettext("a Shopify API version looks like 2026-10")
    elif connection.provider == "woocommerce":
        problem = site_url_problem(connection.site_url)
        if problem:
            errors["site_url"] = problem
    return errors


def request(provider: str, method: str, url: str, **kwargs):
    """coccinelle.http.request after the host check; a redirect is an error, never followed. Errors
    name the host and the vendor's answer, never a header or a credential."""
    problem = url_problem(url, provider)
    if problem:
        host = (_scheme_host(url) or ("", "?"))[1]
        raise EshopError(f"{provider}: refused to call {host}: {problem}", permanent=True)
    response = http.request(method, url, allow_redirects=False, **kwargs)
    if 300 <= response.status_code < 400:
        raise EshopError(
            f"{method} {_scheme_host(url)[1]}: HTTP {response.status_code}: a redirect, not followed",
            permanent=True,
            status=response.status_code,
        )
    return response
