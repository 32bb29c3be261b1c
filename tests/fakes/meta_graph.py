"""A local Graph API for WhatsApp Cloud: Bearer auth, the text message shape, Meta's error body."""

import base64
import hashlib
import re
import secrets

from tests.fakes import FakeServer

_MESSAGES = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<phone_number_id>[^/]+)/messages$")
_MEDIA = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<media_id>[0-9]+)$")
_MEDIA_BYTES_PATH = "/whatsapp_business/attachments/"
MAX_TEXT = 4096


def _error(code: int, message: str, error_type: str = "OAuthException") -> dict:
    return {
        "error": {
            "message": message,
            "type": error_type,
            "code": code,
            "fbtrace_id": "A" + secrets.token_hex(8),
        }
    }


class FakeMetaGraph(FakeServer):
    """POST /{version}/{phone_number_id}/messages; `fail_next_with(400, 131047, "...")` fails one call."""

    def __init__(self, access_token: str = "fake-meta-token"):
        super().__init__()
        self.access_token = access_token
        self._failures: list[tuple[int, int, str]] = []
        self.media: dict[str, tuple[bytes, str, str, int]] = {}  # id: (bytes, mime_type, sha256, size)
        self.media_failures: list[int] = []
        self.media_host = ""  # where the lookup says the bytes are (default: this server)

    def fail_next_with(self, status: int, code: int, message: str) -> None:
        self._failures.append((status, code, message))

    def handle(self, request):
        if request.method == "GET":
            return self._media_get(request)
        if request.method != "POST" or not _MESSAGES.match(request.path):
            return 400, _error(100, "Unsupported post request.", "GraphMethodException"), {}
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return 401, _error(190, "Invalid OAuth access token - Cannot parse access token"), {}
        if self._failures:
            status, code, message = self._failures.pop(0)
            return status, _error(code, message), {}
        try:
            message = request.json()
        except ValueError:
            return 400, _error(100, "Invalid parameter"), {}
        problem = _problem(message)
        if problem:
            return 400, _error(100, problem), {}
        return 200, _accepted(message.get("to") or message["recipient"]), {}

    # Media, as the Cloud API serves it: `GET /{version}/{media_id}` answers the URL (on Meta's CDN,
    # lookaside.fbsbx.com, in production; here on this server) with mime_type, sha256 and file_size;
    # that URL answers the bytes to the same Bearer token.

    def add_media(self, media_id: str, content: bytes, mime_type: str, *, sha256: str = "", file_size=None):
        """Serve `content` under `media_id`; `sha256`/`file_size` override what the lookup states."""
        stated = sha256 or hashlib.sha256(content).hexdigest()
        self.media[media_id] = (content, mime_type, stated, len(content) if file_size is None else file_size)

    def fail_media_next_with(self, status: int) -> None:
        """The next download of media bytes answers `status` (a CDN hiccup: 503; an expired URL: 404)."""
        self.media_failures.append(status)

    def _media_get(self, request):
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return 401, _error(190, "Invalid OAuth access token - Cannot parse access token"), {}
        media = self.media
        if request.path == _MEDIA_BYTES_PATH:
            media_id = (request.query.get("mid") or [""])[0]
            if self.media_failures:
                return self.media_failures.pop(0), b"", {"Content-Type": "text/plain"}
            if media_id not in media:
                return 404, b"", {"Content-Type": "text/plain"}
            content, mime_type, _sha, _size = media[media_id]
            return 200, content, {"Content-Type": mime_type}
        match = _MEDIA.match(request.path)
        if not match or match["media_id"] not in media:
            message = (
                "Unsupported get request. Object with ID does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation."
            )
            return 400, _error(100, message, "GraphMethodException"), {}
        _content, mime_type, sha256, size = media[match["media_id"]]
        query = f"?mid={match['media_id']}&ext=1700000000&hash=ATtest"
        return (
            200,
            {
                "messaging_product": "whatsapp",
                "url": f"{self.media_host or self.url}{_MEDIA_BYTES_PATH}{query}",
                "mime_type": mime_type,
                "sha256": sha256,
                "file_size": str(size),
                "id": match["media_id"],
            },
            {},
        )


def _problem(message) -> str:
    if not isinstance(message, dict) or message.get("messaging_product") != "whatsapp":
        return "(#100) The parameter messaging_product is required."
    if not (message.get("to") or message.get("recipient")):  # recipient: a username user's id
        return "(#100) The parameter to is required."
    if message.get("type") != "text":
        return "(#100) Param type must be text in this fake"
    body = (message.get("text") or {}).get("body")
    if not isinstance(body, str) or not body:
        return "(#100) The parameter text['body'] is required."
    if len(body) > MAX_TEXT:
        return "(#100) Param text['body'] must be at most 4096 characters long."
    return ""


def _accepted(to: str) -> dict:
    wa_id = to.lstrip("+")  # a business-scoped id is echoed as is
    inner = (
        b"\x1c\x18\x0b" + wa_id.encode() + b"\x15\x02\x00\x11\x18\x12" + secrets.token_hex(9).upper().encode()
    )
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": wa_id}],
        "messages": [{"id": "wamid." + base64.b64encode(inner + b"\x00").decode()}],
    }
