"""The one outbound HTTP chokepoint (messaging providers, LLMs, CRMs): a default timeout, a User-Agent,
and one exception type that says whether trying again can help.

Calls go through one `requests.Session` per thread, so that consecutive calls to one host reuse the
TCP and TLS connection (keep-alive) instead of opening one per call: a send to Twilio or Meta costs one
round trip, not three or four. A Session is not safe to share between threads (Celery's thread pool,
gunicorn's gthread workers), hence one each; and one per process, since a forked child must not write
to its parent's sockets. It keeps no cookies: one shop's CRM session must never ride along on
another shop's call.

The environment's proxy and CA settings (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...) apply as requests
applies them, but are read once per process and host: requests reads them on every call, walking the
whole environment twice, which cost 40 % of a send's time in the worker (0.3 of 0.7 ms, profiled
2026-12-02 against the local fake Twilio) when a batch of replies sends dozens in a row. A change to those
variables takes effect when the process restarts, like any other setting. ~/.netrc is not read: every
call names its own credentials.
"""

import logging
import os
import threading
from functools import lru_cache
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import requests

logger = logging.getLogger(__name__)

USER_AGENT = "Coccinelle/0.1 (+https://github.com/coccinelle-crm)"
DEFAULT_TIMEOUT = 10.0
# Statuses worth retrying: rate limits, overload, and the server's own errors.
TRANSIENT_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504, 529}


_local = threading.local()
_NO_COOKIES = DefaultCookiePolicy(allowed_domains=[])


def session() -> requests.Session:
    """This thread's Session (created on first use, and again in a forked child)."""
    current = getattr(_local, "session", None)
    if current is None or _local.pid != os.getpid():
        current = requests.Session()
        current.cookies.set_policy(_NO_COOKIES)
        current.trust_env = False  # request() gives it the environment's settings, read once a host
        _local.session, _local.pid = current, os.getpid()
    return current


def environment_settings(url: str) -> dict:
    """What the environment says for calls to this URL's host: proxies (NO_PROXY honoured), the CA
    bundle and client certificate, as a Session that trusts the environment would work them out."""
    parts = urlsplit(url)
    found = dict(_environment_settings(f"{parts.scheme}://{parts.netloc}/"))
    found["proxies"] = dict(found["proxies"])  # the cached one stays as the environment said
    return found


@lru_cache(maxsize=256)
def _environment_settings(origin: str) -> tuple:
    merged = requests.Session().merge_environment_settings(origin, {}, None, None, None)
    return (("proxies", merged["proxies"]), ("verify", merged["verify"]), ("cert", merged["cert"]))


class ExternalServiceError(Exception):
    def __init__(self, message: str, *, permanent: bool, status: int | None = None, body=None, headers=None):
        super().__init__(message)
        self.permanent = permanent
        self.status = status
        self.body = body
        self.headers = headers or {}


def request(method: str, url: str, *, timeout: float = DEFAULT_TIMEOUT, **kwargs) -> requests.Response:
    """Send a request; return the response for a 2xx, raise ExternalServiceError for anything else.

    The error message never includes request headers or credentials, only the service's own answer.
    """
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    try:
        for name, value in environment_settings(url).items():
            kwargs.setdefault(name, value)
        response = session().request(method, url, headers=headers, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        raise ExternalServiceError(
            f"{method} {_host(url)}: timed out after {timeout}s", permanent=False
        ) from exc
    except (requests.RequestException, ValueError) as exc:  # ValueError: a URL requests cannot read
        raise ExternalServiceError(f"{method} {_host(url)}: {type(exc).__name__}", permanent=False) from exc
    if response.ok:
        return response
    body = _body(response)
    raise ExternalServiceError(
        f"{method} {_host(url)}: HTTP {response.status_code}: {_summary(body)}",
        permanent=response.status_code not in TRANSIENT_STATUSES,
        status=response.status_code,
        body=body,
        headers=response.headers,
    )


def _host(url: str) -> str:
    return requests.utils.urlparse(url).netloc


def _body(response):
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def _summary(body) -> str:
    """The vendor's own error message, whatever the shape (Twilio, Meta, OpenAI, Anthropic)."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error)[:300]
        return str(body.get("message") or error)[:300]
    return str(body)[:300]


def json_object(response: requests.Response, what: str) -> dict:
    """The response's JSON object; a permanent ExternalServiceError naming `what` when it is none (an
    HTML error page from a proxy, a list where an object was promised)."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise ExternalServiceError(f"{what} was not a JSON object", permanent=True)
    return payload
