"""Sign-in throttling (django-axes) as this project needs it: the client's address behind a proxy, and a
lockout page in the user's language. The settings are in coccinelle/settings.py (AXES_*)."""

import ipaddress
import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.shortcuts import render

LOCKOUT_TEMPLATE = "registration/locked_out.html"


def client_ip(request) -> str | None:
    """The address a sign-in attempt came from (AXES_CLIENT_IP_CALLABLE).

    Behind a proxy REMOTE_ADDR is the proxy's, so every client would share one counter. Each proxy appends
    the address it saw to X-Forwarded-For, so the client is PROXY_COUNT entries from the right; entries
    further left are whatever the client sent and are never read. Without USE_PROXY_HEADERS the header is
    ignored entirely: anyone could send a new one with every guess and never be counted.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    if not settings.USE_PROXY_HEADERS:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not hops:
        return remote
    candidate = hops[-min(max(settings.PROXY_COUNT, 1), len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def lockout_response(request, original_response=None, credentials=None):
    """The page shown instead of the sign-in form while a username and address pair is locked."""
    cool_off = get_cool_off(request)
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": math.ceil(cool_off.total_seconds() / 60) if cool_off else None,
        "retry_url": request.path,
    }
    return render(request, LOCKOUT_TEMPLATE, context, status=429)
