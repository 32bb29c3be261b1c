"""Downloading a file a customer sent, for any provider: a capped, hashed read into a temporary file,
and the rule that says which hosts may receive the provider's credentials.

Provider modules (meta.media_fetch, twilio.media_fetch) make the calls through coccinelle.http; this
module only reads what they get and refuses what must not be kept.
"""

import base64
import binascii
import hashlib
import re
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

from coccinelle.http import ExternalServiceError

CHUNK = 64 * 1024
# Kept in memory up to this size, then on disk: a 16 MB video must not sit in a worker's memory.
SPOOL_BYTES = 1024 * 1024


@dataclass
class Downloaded:
    file: tempfile.SpooledTemporaryFile  # positioned at 0; the caller closes it
    size: int
    sha256: str  # hex digest of the bytes read
    content_type: str  # without parameters, lower case ("audio/ogg", not "audio/ogg; codecs=opus")
    stated_sha256: str = ""  # what the provider says the hash is (Meta), checked by the caller


class MediaRefused(ExternalServiceError):
    """A download that trying again cannot fix: too big, a type not kept, a host that is not the
    vendor's. The message is shown to the shop (English, short)."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


def sha256_hex(value: str) -> str:
    """A stated sha256 as lower-case hex. Meta writes it in hex in the media lookup and in base64 in
    webhooks (`SfInY0gG…GUI=`); anything else is no usable hash: ""."""
    value = (value or "").strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return value.lower()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return ""
    return raw.hex() if len(raw) == 32 else ""


def bare_type(content_type: str) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def read_capped(response, *, max_bytes: int, content_type: str = "") -> Downloaded:
    """Read a streamed `requests` response into a temporary file; refuse it past `max_bytes`, from the
    Content-Length before reading when the server gives one, else as soon as the count passes it."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise MediaRefused(f"file too big: {int(declared)} bytes (limit {max_bytes})")
    digest, size = hashlib.sha256(), 0
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the caller closes it
    try:
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise MediaRefused(f"file too big: over {max_bytes} bytes")
            digest.update(chunk)
            spooled.write(chunk)
    except MediaRefused:
        spooled.close()
        raise
    except OSError as exc:  # the connection broke mid-way (requests wraps these): worth trying again
        spooled.close()
        raise ExternalServiceError(f"download interrupted: {type(exc).__name__}", permanent=False) from exc
    finally:
        response.close()
    spooled.seek(0)
    kind = bare_type(content_type or response.headers.get("Content-Type", ""))
    return Downloaded(file=spooled, size=size, sha256=digest.hexdigest(), content_type=kind)


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def vendor_owns(url: str, *, configured_base: str, domains: tuple[str, ...]) -> bool:
    """True when `url` is the vendor's: the configured API base's own host (a local fake in tests), or
    an https host under one of the vendor's registered `domains`."""
    parts = urlsplit(url)
    base = urlsplit(configured_base)
    # The configured host only with its own scheme: a credential never goes out over http to it.
    if parts.netloc and parts.netloc.lower() == host_of(configured_base) and parts.scheme == base.scheme:
        return True
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(host == d or host.endswith("." + d) for d in domains)
