"""The HTTP call of one webhook attempt, on a connection whose peer address is checked.

Why not coccinelle/http.py's shared Session: that one calls the vendors we chose; this URL was typed by
a shop owner. urlguard checks its host before each attempt, but the connection resolves the name again,
and a DNS server can answer a public address to the check and 127.0.0.1 to the connection a moment
later (rebinding). Here the address the socket actually connected to is checked before a byte is sent.
And the answer is read only as far as an attempt keeps it: a receiver cannot make a worker download a
gigabyte. The rest is as in coccinelle/http.py: its User-Agent, the environment's proxy and CA settings
(through a proxy, the proxy connects, so the egress check is the proxy's), one Session per thread,
no cookies, never a header in an error.
"""

import os
import threading
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from coccinelle import http
from crm_backends.outgoing.urlguard import is_public

READ_LIMIT = 16 * 1024  # bytes of the answer read; the attempt keeps fewer characters


class PrivatePeer(OSError):
    """The connection reached a private, loopback or reserved address."""


@dataclass
class Answer:
    status_code: int
    text: str
    is_redirect: bool


class SendError(Exception):
    """No answer (refused, timed out, a private peer); the message names the host, never a header."""


class _PeerChecked:
    def _new_conn(self):
        sock = super()._new_conn()
        address = sock.getpeername()[0]
        if not settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE and not is_public(address):
            sock.close()
            raise PrivatePeer(address)
        return sock


class _HTTPConnection(_PeerChecked, HTTPConnection):
    pass


class _HTTPSConnection(_PeerChecked, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


_local = threading.local()
_NO_COOKIES = DefaultCookiePolicy(allowed_domains=[])


def session() -> requests.Session:
    current = getattr(_local, "session", None)
    if current is None or _local.pid != os.getpid():
        current = requests.Session()
        current.cookies.set_policy(_NO_COOKIES)
        current.trust_env = False  # environment_settings() below, read once a host
        current.mount("http://", _Adapter())
        current.mount("https://", _Adapter())
        _local.session, _local.pid = current, os.getpid()
    return current


def post(url: str, *, body: bytes, headers: dict, timeout: float) -> Answer:
    """POST `body`; the answer whatever its status (redirects not followed), or SendError."""
    options = http.environment_settings(url)
    host = requests.utils.urlparse(url).netloc
    try:
        with session().post(
            url,
            data=body,
            headers={"User-Agent": http.USER_AGENT, **headers},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            **options,
        ) as response:
            content = response.raw.read(READ_LIMIT, decode_content=True) or b""
            text = content.decode(response.encoding or "utf-8", errors="replace")
            return Answer(response.status_code, text, response.is_redirect)
    except requests.Timeout as exc:
        raise SendError(f"POST {host}: timed out after {timeout}s") from exc
    except (requests.RequestException, ValueError, OSError) as exc:
        if _private_peer(exc):
            raise SendError(f"POST {host}: connected to a private or reserved address, refused") from exc
        raise SendError(f"POST {host}: {type(exc).__name__}") from exc


def _private_peer(exc: BaseException) -> bool:
    """Whether a PrivatePeer is somewhere in what requests and urllib3 wrapped around it."""
    seen, todo = set(), [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, PrivatePeer):
            return True
        todo.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        todo.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return False
