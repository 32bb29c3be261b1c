"""A local Graph API for WhatsApp Cloud: Bearer auth, the text and template message shapes, a WhatsApp
Business Account's template list with cursor paging, Meta's error body."""

import base64
import hashlib
import re
import secrets

from tests.fakes import FakeServer

_MESSAGES = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<phone_number_id>[^/]+)/messages$")
_MEDIA = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<media_id>[0-9]+)$")
_TEMPLATES = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<waba_id>[0-9]+)/message_templates$")
_PHONE_NUMBERS = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<waba_id>[0-9]+)/phone_numbers$")
_PARAMETER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
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
        # WABA id -> templates as Meta lists them ({name, language, status, category, components, id});
        # a template send must name one of them (any WABA's) when any are registered.
        self.templates: dict[str, list[dict]] = {}
        # WABA id -> the phone-number ids it holds (`GET /{waba_id}/phone_numbers`); once a number is
        # registered, a template send from it must name one of its own account's templates.
        self.phone_numbers: dict[str, list[str]] = {}

    def add_phone_number(self, waba_id: str, phone_number_id: str) -> None:
        self.phone_numbers.setdefault(waba_id, []).append(phone_number_id)

    def add_template(self, waba_id: str, name: str, language: str, body: str, *, status: str = "APPROVED"):
        """Register a template of the account, listed by message_templates and accepted by a send."""
        template = {
            "name": name,
            "components": [{"type": "BODY", "text": body}],
            "language": language,
            "status": status,
            "category": "UTILITY",
            "id": str(1000000000000000 + sum(len(t) for t in self.templates.values())),
        }
        if _PARAMETER.search(body):
            count = max(int(n) for n in _PARAMETER.findall(body))
            template["components"][0]["example"] = {
                "body_text": [[f"example {n}" for n in range(1, count + 1)]]
            }
        self.templates.setdefault(waba_id, []).append(template)
        return template

    def fail_next_with(self, status: int, code: int, message: str) -> None:
        self._failures.append((status, code, message))

    def handle(self, request):
        if request.method == "GET" and _TEMPLATES.match(request.path):
            return self._templates_get(request, _TEMPLATES.match(request.path)["waba_id"])
        if request.method == "GET" and _PHONE_NUMBERS.match(request.path):
            return self._phone_numbers_get(request, _PHONE_NUMBERS.match(request.path)["waba_id"])
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
        if message["type"] == "template":
            refused = self._template_refusal(message["template"], _MESSAGES.match(request.path))
            if refused:
                return refused
        return 200, _accepted(message.get("to") or message["recipient"]), {}

    # Templates: `GET /{version}/{waba_id}/message_templates?fields=…&limit=…&after=…` answers
    # {data, paging: {cursors: {before, after}, next}} (`next` only while more remain), as Meta pages.

    def _templates_get(self, request, waba_id: str):
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return 401, _error(190, "Invalid OAuth access token - Cannot parse access token"), {}
        if waba_id not in self.templates:
            message = f"Unsupported get request. Object with ID '{waba_id}' does not exist"
            return 400, _error(100, message, "GraphMethodException"), {}
        listed = self.templates[waba_id]
        limit = int((request.query.get("limit") or ["25"])[0])
        start = int(base64.b64decode((request.query.get("after") or ["MA=="])[0]).decode() or 0)
        page = listed[start : start + limit]
        cursors = {
            "before": base64.b64encode(str(start).encode()).decode(),
            "after": base64.b64encode(str(start + len(page)).encode()).decode(),
        }
        paging = {"cursors": cursors}
        if start + len(page) < len(listed):
            paging["next"] = f"{self.url}{request.path}?limit={limit}&after={cursors['after']}"
        return 200, {"data": page, "paging": paging}, {}

    def _phone_numbers_get(self, request, waba_id: str):
        """`GET /{waba_id}/phone_numbers`: {data: [{id, display_phone_number, verified_name, …}], paging}."""
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return 401, _error(190, "Invalid OAuth access token - Cannot parse access token"), {}
        if waba_id not in self.phone_numbers and waba_id not in self.templates:
            message = f"Unsupported get request. Object with ID '{waba_id}' does not exist"
            return 400, _error(100, message, "GraphMethodException"), {}
        data = [
            {"id": pid, "display_phone_number": "+33 7 57 00 00 01", "verified_name": "Boutique",
             "quality_rating": "GREEN", "code_verification_status": "VERIFIED"}
            for pid in self.phone_numbers.get(waba_id, [])
        ]  # fmt: skip
        cursor = base64.b64encode(b"0").decode()
        return 200, {"data": data, "paging": {"cursors": {"before": cursor, "after": cursor}}}, {}

    def _template_refusal(self, template: dict, sender=None):
        """Meta's answers for an unknown template (132001, 404) or a wrong parameter count (132000). A
        number sends its own account's templates only."""
        phone_number_id = sender["phone_number_id"] if sender else ""
        owner = next((w for w, ids in self.phone_numbers.items() if phone_number_id in ids), None)
        accounts = [self.templates.get(owner, [])] if owner else self.templates.values()
        known = [t for listed in accounts for t in listed]
        if not known:
            return None
        wanted = (template.get("name"), (template.get("language") or {}).get("code"))
        found = next((t for t in known if (t["name"], t["language"]) == wanted), None)
        if found is None or found["status"] != "APPROVED":
            message = f"(#132001) Template name does not exist in the translation: {wanted[0]} ({wanted[1]})"
            return 404, _error(132001, message), {}
        expected = max((int(n) for n in _PARAMETER.findall(found["components"][0]["text"])), default=0)
        given = sum(
            len(c.get("parameters") or [])
            for c in template.get("components") or []
            if c.get("type") == "body"
        )
        if given != expected:
            message = "(#132000) Number of parameters does not match the expected number of params"
            return 400, _error(132000, message), {}
        return None

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
    if message.get("type") == "template":
        return _template_problem(message.get("template"))
    if message.get("type") == "interactive":
        return _buttons_problem(message.get("interactive"))
    if message.get("type") != "text":
        return "(#100) Param type must be text, template or interactive in this fake"
    body = (message.get("text") or {}).get("body")
    if not isinstance(body, str) or not body:
        return "(#100) The parameter text['body'] is required."
    if len(body) > MAX_TEXT:
        return "(#100) Param text['body'] must be at most 4096 characters long."
    return ""


def _buttons_problem(interactive) -> str:
    """Reply buttons as the reference's InteractiveMessage requires them: body.text (1024 at most), 1 to 3
    buttons of type "reply" with an id (256) and a title (20, unique, not empty)."""
    if not isinstance(interactive, dict) or interactive.get("type") != "button":
        return "(#100) Param interactive['type'] must be button in this fake"
    text = (interactive.get("body") or {}).get("text")
    if not isinstance(text, str) or not text or len(text) > 1024:
        return "(#100) Param interactive['body']['text'] is required, 1024 characters at most."
    buttons = (interactive.get("action") or {}).get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return "(#100) Param interactive['action']['buttons'] must have 1 to 3 items."
    titles = []
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if button.get("type") != "reply" or not isinstance(reply, dict):
            return "(#100) Param interactive['action']['buttons'][]['type'] must be reply."
        title, button_id = reply.get("title"), reply.get("id")
        if not isinstance(title, str) or not title or len(title) > 20 or title in titles:
            return "(#100) Button title must be unique, 1 to 20 characters."
        if (
            not isinstance(button_id, str)
            or not button_id
            or len(button_id) > 256
            or button_id != button_id.strip()
        ):
            return "(#100) Button id must be 1 to 256 characters, without leading or trailing spaces."
        titles.append(title)
    return ""


def _template_problem(template) -> str:
    """The shape Meta requires: {name, language: {code}, components?: [{type, parameters: [...]}]}."""
    if not isinstance(template, dict) or not isinstance(template.get("name"), str) or not template["name"]:
        return "(#100) The parameter template['name'] is required."
    language = template.get("language")
    if not isinstance(language, dict) or not isinstance(language.get("code"), str) or not language["code"]:
        return "(#100) The parameter template['language']['code'] is required."
    for component in template.get("components") or []:
        if not isinstance(component, dict) or component.get("type") not in ("header", "body", "button"):
            return "(#100) Invalid parameter: template['components'][]['type']"
        for parameter in component.get("parameters") or []:
            if not isinstance(parameter, dict) or parameter.get("type") != "text":
                return "(#100) Param type must be text in this fake"
            if not isinstance(parameter.get("text"), str) or not parameter["text"].strip():
                return "(#131008) Required parameter is missing: parameter['text']"
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
