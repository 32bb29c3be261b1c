"""A local HubSpot (CRM v3 object APIs + OAuth refresh) enforcing the contract in contracts.md.

Bearer auth (a private-app token, or OAuth access tokens that expire), a rolling rate limit with the
`X-HubSpot-RateLimit-*` headers and the 429 body, contacts (create, update, get, list, search, batch
create/update/upsert with 207 partial answers and 409 "Contact already exists. Existing ID: …"), notes
associated to contacts (type 202), HubSpot's error body. Batch results come back in a different order
than the inputs (HubSpot promises none): correlate them with `objectWriteTraceId`.

Switches: `fail_next(status, body=None, count=1)`, `expire_tokens()`, `advance(seconds)` (the fake clock).
Benchmark counters: `max_requests_in_window`, `rate_limited_count`.
"""

import json
import random
import re
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import unquote

from tests.fakes import FakeServer

MAX_NOTE_BODY = 65_536
MAX_SEARCH_LIMIT = 200
MAX_LIST_LIMIT = 100
NOTE_TO_CONTACT = 202
PORTAL_ID = 12345
DEFAULT_CONTACT_PROPERTIES = (
    "createdate",
    "email",
    "firstname",
    "hs_object_id",
    "lastmodifieddate",
    "lastname",
)
DEFAULT_NOTE_PROPERTIES = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
AUTH_MISSING = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
NOT_FOUND_IN_BATCH = (
    "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid."
)

_CONTACT = re.compile(r"^/crm/v3/objects/contacts/(?P<id>[^/]+)$")
_NOTE = re.compile(r"^/crm/v3/objects/notes/(?P<id>[^/]+)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STATIC = "static"  # the rate-limit bucket of the private-app token
_OAUTH = "oauth"  # one bucket for every OAuth token: refreshing does not reset the app's limit


class _Reject(Exception):
    """An answer decided deep inside a handler: (status, body)."""

    def __init__(self, status: int, body: dict):
        super().__init__(body.get("message"))
        self.status, self.body = status, body


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def error(status: int, message: str, category: str, **extra) -> tuple[int, dict]:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
    body.update(extra)
    return status, body


def _invalid_properties(problems: list[dict]) -> _Reject:
    return _Reject(
        *error(
            400,
            "Property values were not valid: " + json.dumps(problems, separators=(",", ":")),
            "VALIDATION_ERROR",
            errors=[
                {"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}}
                for p in problems
            ],
        )
    )


def _problem(name: str, message: str, code: str) -> dict:
    return {"isValid": False, "message": message, "error": code, "name": name}


def _shuffled(items: list) -> list:
    """A different order than the inputs' whenever there are two or more, so order bugs always show."""
    out = list(items)
    if len(out) < 2:
        return out
    random.shuffle(out)
    if out == items:
        out = out[1:] + out[:1]
    return out


def _string(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class FakeHubSpot(FakeServer):
    def __init__(
        self,
        token: str = "hs-token",
        rate_limit: int = 100,
        window_seconds: float = 10.0,
        max_batch: int = 100,
        oauth_client: tuple[str, str, str] | None = None,
        token_ttl: int = 1800,
        search_rate_limit: int | None = 5,
        search_index_lag: float = 0.0,
    ):
        super().__init__()
        # poll more often than the default 0.5 s so that leaving the `with` block is quick
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._server.socket.listen(128)  # a deeper backlog than 5: concurrent clients get no SYN retry
        self.token, self.rate_limit, self.window_seconds = token, rate_limit, window_seconds
        self.max_batch, self.oauth_client, self.token_ttl = max_batch, oauth_client, token_ttl
        self.search_rate_limit, self.search_index_lag = search_rate_limit, search_index_lag
        self.contacts: dict[str, dict] = {}
        self.notes: dict[str, dict] = {}
        self.lead_status_options = list(LEAD_STATUSES)  # portals may edit the list
        self.lifecycle_stage_options = list(LIFECYCLE_STAGES)
        self.refuse_lifecycle_backwards = True  # "moving backwards is often refused"
        self.max_requests_in_window = 0
        self.rate_limited_count = 0
        self.issued_tokens: dict[str, float] = {}  # OAuth access token -> expiry on the fake clock
        self.refresh_count = 0
        self._lock = threading.RLock()
        self._ids = iter(range(101, 10**12))
        self._meta: dict[str, dict] = {}  # id -> {"created": epoch, "updated": epoch, "indexed": clock}
        self._hits: dict[str, list[tuple[float, bool]]] = {}  # bucket -> [(clock, served)]
        self._search_hits: dict[str, list[float]] = {}
        self._failures: list[tuple[int, dict | None]] = []
        self._offset = 0.0

    # ---- switches -------------------------------------------------------------------------------

    def fail_next(self, status: int, body: dict | None = None, count: int = 1) -> None:
        """Answer the next `count` CRM requests (after auth) with `status` and `body` (HubSpot's if None)."""
        with self._lock:
            self._failures.extend([(status, body)] * count)

    def expire_tokens(self) -> None:
        """Every OAuth access token issued so far is now expired (401 EXPIRED_AUTHENTICATION)."""
        with self._lock:
            for token in self.issued_tokens:
                self.issued_tokens[token] = self._now() - 1

    def advance(self, seconds: float) -> None:
        """Move the fake clock on: tokens expire and the rate window rolls without sleeping."""
        with self._lock:
            self._offset += seconds

    def _now(self) -> float:
        return time.monotonic() + self._offset

    # ---- dispatch -------------------------------------------------------------------------------

    def handle(self, request):
        with self._lock:
            if request.path in ("/oauth/v1/token", "/oauth/v3/token"):
                return self._oauth(request)
            bucket, failure = self._authenticate(request)
            if failure:
                return failure
            limited, headers = self._count(bucket, request)
            if limited:
                return limited[0], limited[1], headers
            if self._failures:
                status, body = self._failures.pop(0)
                return status, body if body is not None else self._failure_body(status), headers
            try:
                status, body = self._route(request)
            except _Reject as reject:
                status, body = reject.status, reject.body
            return status, body, headers

    def _failure_body(self, status: int) -> dict:
        if status == 429:
            return self._rate_limited_body("TEN_SECONDLY_ROLLING")
        if status >= 500:
            return error(status, "internal error", "INTERNAL_ERROR")[1]
        return error(status, "fake failure", "VALIDATION_ERROR")[1]

    def _authenticate(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            if token == self.token:
                return _STATIC, None
            if token in self.issued_tokens:
                expiry = self.issued_tokens[token]
                if expiry > self._now():
                    return _OAUTH, None
                ago = int(self._now() - expiry)
                status, body = error(
                    401,
                    f"The OAuth token used to make this call expired {ago} second(s) ago.",
                    "EXPIRED_AUTHENTICATION",
                )
                return None, (status, body, {})
        status, body = error(401, AUTH_MISSING, "INVALID_AUTHENTICATION")
        return None, (status, body, {})

    def _count(self, bucket: str, request):
        now = self._now()
        hits = [h for h in self._hits.get(bucket, []) if h[0] > now - self.window_seconds]
        served = sum(1 for _, ok in hits if ok)
        limited = None
        if served >= self.rate_limit:
            limited = (429, self._rate_limited_body("TEN_SECONDLY_ROLLING"))
        elif self.search_rate_limit and request.path == "/crm/v3/objects/contacts/search":
            searches = [t for t in self._search_hits.get(bucket, []) if t > now - 1.0]
            if len(searches) >= self.search_rate_limit:
                limited = (429, self._rate_limited_body("SECONDLY"))
            else:
                searches.append(now)
            self._search_hits[bucket] = searches
        hits.append((now, limited is None))
        self._hits[bucket] = hits
        self.max_requests_in_window = max(self.max_requests_in_window, len(hits))
        if limited:
            self.rate_limited_count += 1
        served += limited is None
        headers = {
            "X-HubSpot-RateLimit-Max": str(self.rate_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.rate_limit - served)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.window_seconds * 1000)),
        }
        if request.path == "/crm/v3/objects/contacts/search" and self.search_rate_limit:
            headers["X-HubSpot-RateLimit-Secondly"] = str(self.search_rate_limit)
        return limited, headers

    def _rate_limited_body(self, policy: str) -> dict:
        what = "ten_secondly_rolling" if policy == "TEN_SECONDLY_ROLLING" else policy.lower()
        return {
            "status": "error",
            "message": f"You have reached your {what} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "category": "RATE_LIMITS",
        }

    def _route(self, request):
        method, path = request.method, request.path.rstrip("/") or "/"
        if path == "/account-info/v3/details" and method == "GET":
            return 200, {
                "portalId": PORTAL_ID,
                "accountType": "STANDARD",
                "timeZone": "Europe/Paris",
                "companyCurrency": "EUR",
                "additionalCurrencies": [],
                "utcOffset": "+01:00",
                "utcOffsetMilliseconds": 3_600_000,
                "uiDomain": "app.hubspot.com",
                "dataHostingLocation": "eu1",
            }
        routes = {
            ("POST", "/crm/v3/objects/contacts"): self._create_contact,
            ("GET", "/crm/v3/objects/contacts"): self._list_contacts,
            ("POST", "/crm/v3/objects/contacts/batch/create"): self._batch_create,
            ("POST", "/crm/v3/objects/contacts/batch/update"): self._batch_update,
            ("POST", "/crm/v3/objects/contacts/batch/upsert"): self._batch_upsert,
            ("POST", "/crm/v3/objects/contacts/batch/read"): self._batch_read,
            ("POST", "/crm/v3/objects/contacts/search"): self._search,
            ("POST", "/crm/v3/objects/notes"): self._create_note,
            ("POST", "/crm/v3/objects/notes/batch/create"): self._batch_create_notes,
        }
        if (method, path) in routes:
            return routes[(method, path)](request)
        if match := _CONTACT.match(path):
            contact_id = unquote(match["id"])
            if method == "GET":
                return self._get_contact(request, contact_id)
            if method == "PATCH":
                return self._update_contact(request, contact_id)
            if method == "DELETE":
                return self._delete_contact(contact_id)
        if (match := _NOTE.match(path)) and method == "GET":
            note_id = unquote(match["id"])
            if note_id not in self.notes:
                return error(404, "resource not found", "OBJECT_NOT_FOUND")
            return 200, self._note_out(note_id, _wanted(request, DEFAULT_NOTE_PROPERTIES))
        if path.startswith(("/crm/v3/objects/contacts", "/crm/v3/objects/notes")):
            return error(405, f"HTTP method {method} is not supported by this resource", "VALIDATION_ERROR")
        return error(404, f"Unable to route {method} {path}", "OBJECT_NOT_FOUND")

    # ---- OAuth ----------------------------------------------------------------------------------

    def _oauth(self, request):
        if request.method != "POST":
            return 405, {"status": "error", "message": "POST only"}, {}
        form = request.form() if "urlencoded" in request.headers.get("Content-Type", "") else {}
        if not self.oauth_client or form.get("client_id") != self.oauth_client[0]:
            return 400, _oauth_error("BAD_CLIENT_ID", "missing or invalid client_id"), {}
        if form.get("grant_type") != "refresh_token":
            return 400, _oauth_error("BAD_GRANT_TYPE", "missing or unknown grant type"), {}
        if form.get("client_secret") != self.oauth_client[1]:
            return 400, _oauth_error("BAD_CLIENT_SECRET", "missing or invalid client_secret"), {}
        if form.get("refresh_token") != self.oauth_client[2]:
            return 400, _oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token"), {}
        access = "CO" + secrets.token_urlsafe(24)
        self.issued_tokens[access] = self._now() + self.token_ttl
        self.refresh_count += 1
        return (
            200,
            {
                "token_type": "bearer",
                "refresh_token": self.oauth_client[2],
                "access_token": access,
                "expires_in": self.token_ttl,
            },
            {},
        )

    # ---- contacts -------------------------------------------------------------------------------

    def _contact_out(self, contact_id: str, wanted=None, **extra) -> dict:
        meta = self._meta[contact_id]
        props = dict(self.contacts[contact_id])
        props.update(
            hs_object_id=contact_id,
            createdate=_iso(meta["created"]),
            lastmodifieddate=_iso(meta["updated"]),
        )
        if wanted is not None:
            props = {name: props.get(name) for name in wanted}
        out = {
            "id": contact_id,
            "properties": props,
            "createdAt": _iso(meta["created"]),
            "updatedAt": _iso(meta["updated"]),
            "archived": False,
        }
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    def _by_email(self, email: str) -> str | None:
        email = (email or "").strip().lower()
        if not email:
            return None
        for contact_id, props in self.contacts.items():
            if (props.get("email") or "").lower() == email:
                return contact_id
        return None

    def _check_properties(self, properties, current: dict | None = None) -> dict:
        """The properties as HubSpot stores them (strings), or a 400 VALIDATION_ERROR."""
        if not isinstance(properties, dict):
            raise _Reject(*error(400, "Invalid input JSON: properties must be an object", "VALIDATION_ERROR"))
        props = {name: _string(value) for name, value in properties.items()}
        problems = []
        if props.get("email") and not _EMAIL.match(props["email"]):
            problems.append(_problem("email", f"Email address {props['email']} is invalid", "INVALID_EMAIL"))
        if props.get("hs_lead_status") and props["hs_lead_status"] not in self.lead_status_options:
            value = props["hs_lead_status"]
            problems.append(
                _problem(
                    "hs_lead_status",
                    f"{value} was not one of the allowed options: {self.lead_status_options}",
                    "INVALID_OPTION",
                )
            )
        stage = props.get("lifecyclestage")
        if stage and stage not in self.lifecycle_stage_options:
            problems.append(
                _problem(
                    "lifecyclestage",
                    f"{stage} was not one of the allowed options: {self.lifecycle_stage_options}",
                    "INVALID_OPTION",
                )
            )
        elif stage and current and self.refuse_lifecycle_backwards:
            before = current.get("lifecyclestage")
            options = self.lifecycle_stage_options
            if before in options and options.index(stage) < options.index(before) and stage != "other":
                problems.append(
                    _problem(
                        "lifecyclestage",
                        f"lifecyclestage cannot move backwards from {before} to {stage}; clear it first",
                        "INVALID_OPTION",
                    )
                )
        if problems:
            raise _invalid_properties(problems)
        return props

    def _conflict(self, email: str, except_id: str | None = None):
        existing = self._by_email(email)
        if existing and existing != except_id:
            raise _Reject(*error(409, f"Contact already exists. Existing ID: {existing}", "CONFLICT"))

    def _store_contact(self, props: dict, contact_id: str | None = None) -> str:
        now = time.time()
        if contact_id is None:
            contact_id = str(next(self._ids))
            self.contacts[contact_id] = {}
            self._meta[contact_id] = {"created": now, "indexed": self._now() + self.search_index_lag}
        self.contacts[contact_id].update(props)
        self._meta[contact_id]["updated"] = now
        return contact_id

    def _create_contact(self, request):
        body = _json(request)
        props = self._check_properties(body.get("properties"))
        self._conflict(props.get("email"))
        contact_id = self._store_contact(props)
        return 201, self._contact_out(contact_id)

    def _contact_id(self, request, raw_id: str) -> str | None:
        id_property = (request.query.get("idProperty") or [None])[0]
        if id_property == "email":
            return self._by_email(raw_id)
        if id_property not in (None, "hs_object_id"):
            raise _Reject(*error(400, f"{id_property} is not a unique property", "VALIDATION_ERROR"))
        return raw_id if raw_id in self.contacts else None

    def _get_contact(self, request, raw_id: str):
        contact_id = self._contact_id(request, raw_id)
        if contact_id is None:
            return error(404, "resource not found", "OBJECT_NOT_FOUND")
        return 200, self._contact_out(contact_id, _wanted(request, DEFAULT_CONTACT_PROPERTIES))

    def _update_contact(self, request, raw_id: str):
        contact_id = self._contact_id(request, raw_id)
        if contact_id is None:
            return error(404, "resource not found", "OBJECT_NOT_FOUND")
        props = self._check_properties(_json(request).get("properties"), self.contacts[contact_id])
        self._conflict(props.get("email"), except_id=contact_id)
        self._store_contact(props, contact_id)
        return 200, self._contact_out(contact_id)

    def _delete_contact(self, contact_id: str):
        self.contacts.pop(contact_id, None)
        self._meta.pop(contact_id, None)
        return 204, b""

    def _list_contacts(self, request):
        limit = _int_param(request, "limit", 10)
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise _Reject(*error(400, f"limit must be between 1 and {MAX_LIST_LIMIT}", "VALIDATION_ERROR"))
        after = _int_param(request, "after", 0)
        wanted = _wanted(request, DEFAULT_CONTACT_PROPERTIES)
        ids = sorted(int(i) for i in self.contacts if int(i) >= after)
        page = ids[:limit]
        body = {"results": [self._contact_out(str(i), wanted) for i in page]}
        if len(ids) > limit:
            next_after = str(ids[limit])
            body["paging"] = {
                "next": {
                    "after": next_after,
                    "link": f"{self.url}/crm/v3/objects/contacts?after={next_after}",
                }
            }
        return 200, body

    def _inputs(self, request, max_size: int | None = None) -> list[dict]:
        inputs = _json(request).get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
            raise _Reject(
                *error(400, "Invalid input JSON: inputs must be a list of objects", "VALIDATION_ERROR")
            )
        max_size = self.max_batch if max_size is None else max_size
        if len(inputs) > max_size:
            raise _Reject(
                *error(
                    400,
                    f"Batch input size of {len(inputs)} exceeds the limit of {max_size}",
                    "VALIDATION_ERROR",
                    context={"maxInputs": [str(max_size)]},
                )
            )
        return inputs

    def _batch_answer(self, status: int, started: float, results: list, errors: list):
        body = {
            "status": "COMPLETE",
            "results": _shuffled(results),
            "startedAt": _iso(started),
            "completedAt": _iso(time.time()),
        }
        if errors:
            body.update(numErrors=len(errors), errors=errors)
            status = 207
        return status, body

    def _batch_create(self, request):
        started = time.time()
        inputs = self._inputs(request)
        checked, seen = [], set()
        for item in inputs:
            props = self._check_properties(item.get("properties"))
            email = props.get("email", "").lower()
            if email:
                self._conflict(email)
                if email in seen:
                    raise _Reject(
                        *error(400, f"Duplicate emails found in batch input: [{email}]", "VALIDATION_ERROR")
                    )
                seen.add(email)
            checked.append((props, item.get("objectWriteTraceId")))
        results = []
        for props, trace in checked:
            contact_id = self._store_contact(props)
            results.append(self._contact_out(contact_id, objectWriteTraceId=trace))
        return self._batch_answer(201, started, results, [])

    def _batch_update(self, request):
        started = time.time()
        inputs = self._inputs(request)
        ids = [str(item.get("id")) for item in inputs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise _Reject(
                *error(
                    400,
                    f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
                    "VALIDATION_ERROR",
                )
            )
        missing = [i for i in ids if i not in self.contacts]
        checked = []
        for item, contact_id in zip(inputs, ids, strict=True):
            if contact_id in missing:
                continue
            props = self._check_properties(item.get("properties"), self.contacts[contact_id])
            self._conflict(props.get("email"), except_id=contact_id)
            checked.append((contact_id, props, item.get("objectWriteTraceId")))
        results = []
        for contact_id, props, trace in checked:
            self._store_contact(props, contact_id)
            results.append(self._contact_out(contact_id, objectWriteTraceId=trace))
        errors = []
        if missing:
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": NOT_FOUND_IN_BATCH,
                    "context": {"ids": missing},
                }
            )
        return self._batch_answer(200, started, results, errors)

    def _batch_upsert(self, request):
        started = time.time()
        inputs = self._inputs(request)
        for item in inputs:
            if item.get("idProperty") not in ("email", "hs_object_id"):
                raise _Reject(
                    *error(
                        400,
                        f"{item.get('idProperty')} is not a unique property: idProperty must be unique",
                        "VALIDATION_ERROR",
                    )
                )
        keys = [(i["idProperty"], str(i.get("id", "")).lower()) for i in inputs]
        duplicates = sorted({k[1] for k in keys if keys.count(k) > 1})
        if duplicates:
            raise _Reject(
                *error(
                    400,
                    f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
                    "VALIDATION_ERROR",
                )
            )
        results, errors = [], []
        for item in inputs:
            trace = item.get("objectWriteTraceId")
            try:
                result = self._upsert_one(item)
            except _Reject as reject:
                failed = {
                    "status": "error",
                    "category": reject.body["category"],
                    "message": reject.body["message"],
                    "context": {"ids": [str(item.get("id"))]},
                }
                if trace:
                    failed["objectWriteTraceId"] = trace
                errors.append(failed)
                continue
            contact_id, new = result
            results.append(self._contact_out(contact_id, new=new, objectWriteTraceId=trace))
        return self._batch_answer(200, started, results, errors)

    def _upsert_one(self, item) -> tuple[str, bool]:
        raw_id = str(item.get("id") or "")
        if item["idProperty"] == "hs_object_id":
            if raw_id not in self.contacts:
                raise _Reject(*error(404, f"No contact with hs_object_id {raw_id}", "OBJECT_NOT_FOUND"))
            contact_id = raw_id
        else:
            if not _EMAIL.match(raw_id):
                raise _Reject(*error(400, f"Email address {raw_id} is invalid", "VALIDATION_ERROR"))
            contact_id = self._by_email(raw_id)
        current = self.contacts.get(contact_id) if contact_id else None
        props = self._check_properties(item.get("properties") or {}, current)
        if contact_id is None:
            props.setdefault("email", raw_id)
        self._conflict(props.get("email"), except_id=contact_id)
        return self._store_contact(props, contact_id), contact_id is None

    def _batch_read(self, request):
        started = time.time()
        body = _json(request)
        inputs = self._inputs(request)
        id_property = body.get("idProperty")
        wanted = list(body.get("properties") or DEFAULT_CONTACT_PROPERTIES)
        results, missing = [], []
        for item in inputs:
            raw = str(item.get("id"))
            contact_id = (
                self._by_email(raw) if id_property == "email" else (raw if raw in self.contacts else None)
            )
            if contact_id is None:
                missing.append(raw)
            else:
                results.append(self._contact_out(contact_id, wanted))
        errors = []
        if missing:
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": NOT_FOUND_IN_BATCH,
                    "context": {"ids": missing},
                }
            )
        return self._batch_answer(200, started, results, errors)

    def _search(self, request):
        body = _json(request)
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or not 0 <= limit <= MAX_SEARCH_LIMIT:
            raise _Reject(*error(400, f"limit must be between 0 and {MAX_SEARCH_LIMIT}", "VALIDATION_ERROR"))
        groups = body.get("filterGroups") or []
        if len(groups) > 5 or any(len(g.get("filters") or []) > 6 for g in groups):
            raise _Reject(
                *error(400, "Too many filterGroups (max 5) or filters (max 6 per group)", "VALIDATION_ERROR")
            )
        if sum(len(g.get("filters") or []) for g in groups) > 18:
            raise _Reject(*error(400, "Too many filters (max 18 in all)", "VALIDATION_ERROR"))
        now = self._now()
        matching = [
            contact_id
            for contact_id in sorted(self.contacts, key=int)
            if self._meta[contact_id]["indexed"] <= now
            and (not groups or any(self._matches(contact_id, g.get("filters") or []) for g in groups))
        ]
        try:
            after = int(body.get("after") or 0)
        except (TypeError, ValueError) as exc:
            raise _Reject(*error(400, "after must be a paging cursor", "VALIDATION_ERROR")) from exc
        if after + limit > 10_000:
            raise _Reject(*error(400, "Search results are capped at 10,000", "VALIDATION_ERROR"))
        page = matching[after : after + limit]
        wanted = list(body.get("properties") or DEFAULT_CONTACT_PROPERTIES)
        out = {"total": len(matching), "results": [self._contact_out(i, wanted) for i in page]}
        if after + limit < len(matching):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return 200, out

    def _matches(self, contact_id: str, filters: list[dict]) -> bool:
        props = dict(self.contacts[contact_id], hs_object_id=contact_id)
        for f in filters:
            name, operator = f.get("propertyName"), f.get("operator")
            have = (props.get(name) or "").lower()
            value = _string(f.get("value")).lower()
            if operator == "EQ":
                ok = have == value
            elif operator == "NEQ":
                ok = have != value
            elif operator == "IN":
                ok = have in [_string(v).lower() for v in f.get("values") or []]
            elif operator == "NOT_IN":
                ok = have not in [_string(v).lower() for v in f.get("values") or []]
            elif operator == "HAS_PROPERTY":
                ok = bool(have)
            elif operator == "NOT_HAS_PROPERTY":
                ok = not have
            elif operator == "CONTAINS_TOKEN":
                token = value.strip("*")
                ok = token in re.split(r"[\s@.,;]+", have) if "*" not in value else token in have
            else:
                raise _Reject(
                    *error(400, f"Unsupported operator {operator} in this fake", "VALIDATION_ERROR")
                )
            if not ok:
                return False
        return True

    # ---- notes ----------------------------------------------------------------------------------

    def _check_note(self, item) -> tuple[dict, list[dict]]:
        props = item.get("properties")
        if not isinstance(props, dict):
            raise _Reject(*error(400, "Invalid input JSON: properties must be an object", "VALIDATION_ERROR"))
        props = {name: _string(value) for name, value in props.items()}
        if not props.get("hs_timestamp"):
            raise _invalid_properties(
                [_problem("hs_timestamp", "hs_timestamp is required", "REQUIRED_FIELD")]
            )
        if not _timestamp_ok(props["hs_timestamp"]):
            raise _invalid_properties(
                [
                    _problem(
                        "hs_timestamp",
                        f"{props['hs_timestamp']} is not a valid datetime (ms since epoch or ISO 8601)",
                        "INVALID_DATETIME",
                    )
                ]
            )
        if len(props.get("hs_note_body", "")) > MAX_NOTE_BODY:
            raise _invalid_properties(
                [
                    _problem(
                        "hs_note_body",
                        f"hs_note_body is longer than {MAX_NOTE_BODY} characters",
                        "INVALID_STRING_LENGTH",
                    )
                ]
            )
        associations = item.get("associations") or []
        normalized = []
        for assoc in associations:
            to_id = str(((assoc or {}).get("to") or {}).get("id", ""))
            types = (assoc or {}).get("types") or []
            if not types or any(
                t.get("associationCategory") != "HUBSPOT_DEFINED"
                or t.get("associationTypeId") != NOTE_TO_CONTACT
                for t in types
            ):
                raise _Reject(
                    *error(
                        400,
                        f"Invalid association type: notes to contacts use HUBSPOT_DEFINED {NOTE_TO_CONTACT}",
                        "VALIDATION_ERROR",
                    )
                )
            if to_id not in self.contacts:
                raise _Reject(
                    *error(
                        400,
                        f"One or more association targets do not exist: contact {to_id or '(missing)'}",
                        "VALIDATION_ERROR",
                    )
                )
            normalized.append({"to": {"id": to_id}, "types": [dict(t) for t in types]})
        return props, normalized

    def _store_note(self, props: dict, associations: list[dict]) -> str:
        note_id = str(next(self._ids))
        now = time.time()
        self.notes[note_id] = {"properties": props, "associations": associations}
        self._meta[note_id] = {"created": now, "updated": now, "indexed": self._now()}
        return note_id

    def _note_out(self, note_id: str, wanted=None, **extra) -> dict:
        meta = self._meta[note_id]
        props = dict(
            self.notes[note_id]["properties"],
            hs_object_id=note_id,
            hs_createdate=_iso(meta["created"]),
            hs_lastmodifieddate=_iso(meta["updated"]),
        )
        if wanted is not None:
            props = {name: props.get(name) for name in wanted}
        out = {
            "id": note_id,
            "properties": props,
            "createdAt": _iso(meta["created"]),
            "updatedAt": _iso(meta["updated"]),
            "archived": False,
        }
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    def _create_note(self, request):
        props, associations = self._check_note(_json(request))
        return 201, self._note_out(self._store_note(props, associations))

    def _batch_create_notes(self, request):
        started = time.time()
        checked = [(self._check_note(item), item.get("objectWriteTraceId")) for item in self._inputs(request)]
        results = [
            self._note_out(self._store_note(props, associations), objectWriteTraceId=trace)
            for (props, associations), trace in checked
        ]
        return self._batch_answer(201, started, results, [])


def _oauth_error(status: str, message: str) -> dict:
    return {"status": status, "message": message, "correlationId": str(uuid.uuid4())}


def _json(request) -> dict:
    try:
        body = request.json()
    except ValueError as exc:
        raise _Reject(*error(400, f"Invalid input JSON: {exc}", "VALIDATION_ERROR")) from exc
    if not isinstance(body, dict):
        raise _Reject(*error(400, "Invalid input JSON: expected an object", "VALIDATION_ERROR"))
    return body


def _int_param(request, name: str, default: int) -> int:
    raw = (request.query.get(name) or [None])[0]
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise _Reject(*error(400, f"{name} must be an integer", "VALIDATION_ERROR")) from exc


def _wanted(request, default) -> list[str]:
    names = [n for raw in request.query.get("properties", []) for n in raw.split(",") if n]
    return sorted(set(default) | set(names))


def _timestamp_ok(value: str) -> bool:
    if value.isdigit():
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
