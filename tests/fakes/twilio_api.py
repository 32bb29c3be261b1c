"""A local Twilio Messages API: HTTP Basic auth, the required fields, 201 answers and Twilio's error body;
WhatsApp templates sent with ContentSid + ContentVariables, and the Content API's list (GET /v1/Content,
on content.twilio.com in production: point TWILIO_CONTENT_BASE at this server)."""

import base64
import json
import re
import secrets

from tests.fakes import FakeServer

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
_APPROVALS = re.compile(r"^/v1/Content/(?P<sid>HX[0-9a-fA-F]{32})/ApprovalRequests$")
_MEDIA = re.compile(
    r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages/(?P<message>[^/]+)/Media/(?P<media>[^/]+)$"
)


def _error(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilioAPI(FakeServer):
    """POST /2010-04-01/Accounts/{sid}/Messages.json; `fail_next_with(429, 20429, "...")` fails one call."""

    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "fake-twilio-token"):
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self._failures: list[tuple[int, int, str]] = []
        # Media: (message sid, media sid) -> (bytes, content type, CDN or None); an account with
        # "HTTP Basic Authentication for media" on answers 401 without credentials.
        self.media: dict[tuple[str, str], tuple[bytes, str, object]] = {}
        self.media_auth_required = True
        self.media_failures: list[int] = []
        # Content templates, as GET /v1/Content lists them; a ContentSid sent must be one of them.
        self.contents: list[dict] = []
        self.approvals: dict[str, str | None] = {}

    def add_content(
        self,
        friendly_name: str,
        language: str,
        body: str,
        variables: dict | None = None,
        *,
        approval="approved",
    ) -> str:
        """Register a content template (twilio/text) with its WhatsApp approval status (None: never
        submitted); return its sid (HX…)."""
        sid = "HX" + secrets.token_hex(16)
        self.approvals[sid] = approval
        self.contents.append(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "friendly_name": friendly_name,
                "language": language,
                "variables": variables or {},
                "types": {"twilio/text": {"body": body}},
                "date_created": "2026-11-02T10:00:00Z",
                "date_updated": "2026-11-02T10:00:00Z",
                "url": f"https://content.twilio.com/v1/Content/{sid}",
                "links": {
                    "approval_fetch": f"https://content.twilio.com/v1/Content/{sid}/ApprovalRequests",
                    "approval_create": f"https://content.twilio.com/v1/Content/{sid}/ApprovalRequests/whatsapp",
                },
            }
        )
        return sid

    def add_media(self, message_sid: str, media_sid: str, content: bytes, content_type: str, *, cdn=None):
        """Serve `content` at its MediaUrl (returned); with `cdn` (a FakeMediaCDN), answer a 307 to it,
        as Twilio redirects to its storage."""
        self.media[(message_sid, media_sid)] = (content, content_type, cdn)
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"

    def fail_next_with(self, status: int, code: int, message: str) -> None:
        self._failures.append((status, code, message))

    def handle(self, request):
        if request.method == "GET" and request.path == "/v1/Content":
            return self._contents_get(request)
        if request.method == "GET" and _APPROVALS.match(request.path):
            return self._approvals_get(request, _APPROVALS.match(request.path)["sid"])
        if request.method == "GET" and _MEDIA.match(request.path):
            return self._media_get(request, _MEDIA.match(request.path))
        match = _MESSAGES.match(request.path)
        if request.method != "POST" or not match:
            return 404, _error(404, 20404, "The requested resource was not found"), {}
        if not self._authorized(request, match["sid"]):
            return 401, _error(401, 20003, "Authenticate"), {}
        if self._failures:
            status, code, message = self._failures.pop(0)
            return status, _error(status, code, message), {}
        return self._create(request.form(), match["sid"])

    def _media_get(self, request, match):
        found = self.media.get((match["message"], match["media"]))
        if self.media_auth_required and not self._authorized(request, match["sid"]):
            return 401, _error(401, 20003, "Authenticate"), {}
        if self.media_failures:
            status = self.media_failures.pop(0)
            return status, _error(status, 20500, "Internal Server Error"), {}
        if found is None:
            return 404, _error(404, 20404, "The requested resource was not found"), {}
        content, content_type, cdn = found
        if cdn is not None:
            return 307, b"", {"Location": cdn.put(content, content_type), "Content-Type": "text/plain"}
        return 200, content, {"Content-Type": content_type}

    def _contents_get(self, request):
        """Twilio's paged list: {contents, meta: {page, page_size, first_page_url, previous_page_url,
        url, next_page_url, key}}."""
        if not self._authorized(request, self.account_sid):
            return 401, _error(401, 20003, "Authenticate"), {}
        size = int((request.query.get("PageSize") or ["50"])[0])
        page = int((request.query.get("Page") or ["0"])[0])
        chunk = self.contents[page * size : (page + 1) * size]
        base = f"{self.url}/v1/Content?PageSize={size}"
        more = (page + 1) * size < len(self.contents)
        meta = {
            "page": page,
            "page_size": size,
            "first_page_url": f"{base}&Page=0",
            "previous_page_url": f"{base}&Page={page - 1}" if page else None,
            "url": f"{base}&Page={page}",
            "next_page_url": f"{base}&Page={page + 1}&PageToken=PT{page + 1}" if more else None,
            "key": "contents",
        }
        return 200, {"contents": chunk, "meta": meta}, {}

    def _approvals_get(self, request, sid: str):
        """`GET /v1/Content/{sid}/ApprovalRequests`: {sid, account_sid, url, whatsapp: {type, name,
        category, content_type, status, rejection_reason, allow_category_change}}; whatsapp is {} when
        the template was never submitted."""
        if not self._authorized(request, self.account_sid):
            return 401, _error(401, 20003, "Authenticate"), {}
        if sid not in self.approvals:
            return 404, _error(404, 20404, "The requested resource was not found"), {}
        content = next(c for c in self.contents if c["sid"] == sid)
        status = self.approvals[sid]
        whatsapp = {
            "type": "whatsapp", "name": content["friendly_name"], "category": "UTILITY",
            "content_type": "twilio/text", "status": status, "rejection_reason": "",
            "allow_category_change": True,
        } if status else {}  # fmt: skip
        url = f"https://content.twilio.com/v1/Content/{sid}/ApprovalRequests"
        return 200, {"sid": sid, "account_sid": self.account_sid, "url": url, "whatsapp": whatsapp}, {}

    def _content_refusal(self, form: dict):
        """Twilio's 21655 for an unknown ContentSid, 21656 for ContentVariables that are not a JSON object."""
        sid = form["ContentSid"]
        content = next((c for c in self.contents if c["sid"] == sid), None)
        if not re.fullmatch(r"HX[0-9a-fA-F]{32}", sid) or (self.contents and content is None):
            return None, (400, _error(400, 21655, "The ContentSid is Invalid."), {})
        try:
            variables = json.loads(form.get("ContentVariables") or "{}")
        except ValueError:
            variables = None
        if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
            return None, (400, _error(400, 21656, "The ContentVariables Parameter is invalid."), {})
        body = (content or {}).get("types", {}).get("twilio/text", {}).get("body", "")
        for key, value in variables.items():
            body = body.replace("{{" + key + "}}", value)
        return body, None

    def _authorized(self, request, path_sid: str) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.account_sid == path_sid and password == self.auth_token

    def _create(self, form: dict, account_sid: str):
        if not form.get("To"):
            return 400, _error(400, 21604, "A 'To' phone number is required."), {}
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, _error(400, 21603, "A 'From' phone number is required."), {}
        if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
            return 400, _error(400, 21602, "Message body is required."), {}
        body = form.get("Body", "")
        if form.get("ContentSid"):
            body, refusal = self._content_refusal(form)
            if refusal:
                return refusal
        sid = "SM" + secrets.token_hex(16)
        return (
            201,
            {
                "sid": sid,
                "account_sid": account_sid,
                "status": "accepted" if form.get("MessagingServiceSid") else "queued",
                "to": form["To"],
                "from": form.get("From"),
                "body": body,
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "direction": "outbound-api",
                "num_media": "0",
                "num_segments": "1",
                "error_code": None,
                "error_message": None,
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
            },
            {},
        )


class FakeMediaCDN(FakeServer):
    """Where Twilio's MediaUrl redirects (a signed storage URL, on a host that is not Twilio's): serves
    what `put` stored, and records the requests so that a test can check no credentials came along."""

    def __init__(self):
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}

    def put(self, content: bytes, content_type: str) -> str:
        key = secrets.token_hex(8)
        self.files[key] = (content, content_type)
        return f"{self.url}/media/{key}?X-Amz-Signature=fake"

    def handle(self, request):
        found = self.files.get(request.path.rsplit("/", 1)[-1])
        if request.method != "GET" or found is None:
            return 404, b"", {"Content-Type": "text/plain"}
        return 200, found[0], {"Content-Type": found[1]}
