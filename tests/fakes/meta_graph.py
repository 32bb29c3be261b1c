"""A local Graph API for WhatsApp Cloud: Bearer auth, the text message shape, Meta's error body."""

import base64
import re
import secrets

from tests.fakes import FakeServer

_MESSAGES = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<phone_number_id>[^/]+)/messages$")
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

    def fail_next_with(self, status: int, code: int, message: str) -> None:
        self._failures.append((status, code, message))

    def handle(self, request):
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
