"""The one outbound HTTP chokepoint (messaging providers, LLMs, CRMs): a default timeout, a User-Agent,
and one exception type that says whether trying again can help."""

import logging

import requests

logger = logging.getLogger(__name__)

USER_AGENT = "Coccinelle/0.1 (+https://github.com/coccinelle-crm)"
DEFAULT_TIMEOUT = 10.0
# Statuses worth retrying: rate limits, overload, and the server's own errors.
TRANSIENT_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504, 529}


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
        response = requests.request(method, url, headers=headers, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        raise ExternalServiceError(
            f"{method} {_host(url)}: timed out after {timeout}s", permanent=False
        ) from exc
    except requests.RequestException as exc:
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
