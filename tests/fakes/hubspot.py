"""A local HubSpot (CRM v3 object APIs, properties, account info, OAuth 2026-03) that checks requests
against HubSpot's published schema (hubspot_schema.py says where it comes from) and answers like
HubSpot's own examples.

Bearer auth (a private-app token, or OAuth access tokens that expire), a rolling rate limit with the
`X-HubSpot-RateLimit-*` headers and the 429 body, contacts (create, update, get, list, search, batch
create/update/upsert with 207 partial answers whose errors carry their own `context`, and 409
"Contact already exists. Existing ID: …", GDPR delete and merge: hubspot_gdpr.py), custom contact
properties (unique ones usable as upsert `idProperty`), notes associated to contacts (type 202; batch
update and archive), HubSpot's error body.

Like HubSpot: batch results come back in another order than the inputs, and without
`objectWriteTraceId` (the schema marks it optional and HubSpot's examples omit it) unless
`echo_trace_ids=True`. Stricter than HubSpot in one way: a property sent as "" (which clears it) is
refused unless `refuse_blank=False`, because Coccinelle promises never to blank CRM data.

Switches: `fail_next(status, body=None, count=1, headers=None)`, `expire_tokens()`, `advance(seconds)`
(the fake clock), `scopes` (what the static token may do). Counters: `max_requests_in_window`,
`rate_limited_count`, `refresh_count`, `token_paths`, `revoked`.
"""

import random
import re
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import unquote

from tests.fakes import FakeServer
from tests.fakes.hubspot_gdpr import GdprMixin
from tests.fakes.hubspot_notes import NOTE_TO_CONTACT, NotesMixin
from tests.fakes.hubspot_reads import DEFAULT_CONTACT_PROPERTIES, ReadsMixin, not_found_errors, wanted
from tests.fakes.hubspot_schema import (
    LEAD_STATUSES,
    LIFECYCLE_STAGES,
    SCHEMA_WRITE_SCOPE,
    STANDARD_CONTACT_PROPERTIES,
    Reject,
    batch_inputs,
    error,
    invalid,
    invalid_properties,
    problem,
    property_definition,
    string_values,
)

__all__ = ["NOTE_TO_CONTACT", "PORTAL_ID", "FakeHubSpot", "error"]

PORTAL_ID = 12345
DEFAULT_NOTE_PROPERTIES = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
ALL_SCOPES = frozenset({"crm.objects.contacts.read", "crm.objects.contacts.write", SCHEMA_WRITE_SCOPE})
TOKEN_PATHS = ("/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token")
REVOKE_PATH = "/oauth/2026-03/token/revoke"
AUTH_MISSING = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)

_CONTACT = re.compile(r"^/crm/v3/objects/contacts/(?P<id>[^/]+)$")
_NOTE = re.compile(r"^/crm/v3/objects/notes/(?P<id>[^/]+)$")
_PROPERTY = re.compile(r"^/crm/v3/properties/contacts/(?P<name>[^/]+)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STATIC = "static"  # the rate-limit bucket of the private-app token
_OAUTH = "oauth"  # one bucket for every OAuth token: refreshing does not reset the app's limit


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def _shuffled(items: list) -> list:
    """A different order than the inputs' whenever there are two or more, so order bugs always show."""
    out = list(items)
    if len(out) < 2:
        return out
    random.shuffle(out)
    if out == items:
        out = out[1:] + out[:1]
    return out


def _item_error(reject: Reject, context: dict) -> dict:
    """One failed input of a batch, as HubSpot's StandardError: its own message and `context`."""
    return {
        "status": "error",
        "category": reject.body["category"],
        "message": reject.body["message"],
        "context": context,
        "errors": reject.body.get("errors", []),
        "links": {},
    }


class FakeHubSpot(NotesMixin, GdprMixin, ReadsMixin, FakeServer):
    _iso = staticmethod(_iso)

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
        echo_trace_ids: bool = False,
        echo_written_properties: bool = True,
        refuse_blank: bool = True,
        ui_domain: str = "app.hubspot.com",
        portal_id: int = PORTAL_ID,
    ):
        super().__init__()
        # poll more often than the default 0.5 s so that leaving the `with` block is quick
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._server.socket.listen(128)  # a deeper backlog than 5: concurrent clients get no SYN retry
        self.token, self.rate_limit, self.window_seconds = token, rate_limit, window_seconds
        self.max_batch, self.oauth_client, self.token_ttl = max_batch, oauth_client, token_ttl
        self.search_rate_limit, self.search_index_lag = search_rate_limit, search_index_lag
        self.echo_trace_ids, self.refuse_blank = echo_trace_ids, refuse_blank
        # HubSpot's own batch upsert example answers `"properties": {}`: off, writes echo none.
        self.echo_written_properties = echo_written_properties
        self.ui_domain, self.portal_id = ui_domain, portal_id
        self.scopes = set(ALL_SCOPES)  # of the static token; OAuth tokens get the same
        self.contacts: dict[str, dict] = _Contacts()
        self._index: dict[tuple[str, str], str] = {}  # (property, lower-cased value) -> contact id
        self._indexed = -1  # the contacts' version the index was last brought up to date with
        self.notes: dict[str, dict] = {}
        self.contact_properties = {k: dict(v) for k, v in STANDARD_CONTACT_PROPERTIES.items()}
        self.lead_status_options = list(LEAD_STATUSES)  # portals may edit the list
        self.lifecycle_stage_options = list(LIFECYCLE_STAGES)
        self.refuse_lifecycle_backwards = True  # "moving backwards is often refused"
        self.max_requests_in_window = 0
        self.rate_limited_count = 0
        self.issued_tokens: dict[str, float] = {}  # OAuth access token -> expiry on the fake clock
        self.refresh_count = 0
        self.token_paths: list[str] = []
        self.revoked: list[str] = []  # refresh tokens revoked through the 2026-03 endpoint
        self._lock = threading.RLock()
        self._ids = iter(range(101, 10**12))
        self._meta: dict[str, dict] = {}  # id -> {"created": epoch, "updated": epoch, "indexed": clock}
        self._hits: dict[str, list[tuple[float, bool]]] = {}  # bucket -> [(clock, served)]
        self._init_gdpr()
        self._search_hits: dict[str, list[float]] = {}
        self._failures: list[tuple[int, dict | None, dict]] = []
        self._offset = 0.0

    # ---- switches -------------------------------------------------------------------------------

    def fail_next(self, status: int, body: dict | None = None, count: int = 1, headers=None) -> None:
        """Answer the next `count` CRM requests (after auth) with `status`, `body` (HubSpot's if None)
        and extra `headers` (e.g. Retry-After)."""
        with self._lock:
            self._failures.extend([(status, body, dict(headers or {}))] * count)

    def add_property(self, name: str, *, unique: bool = False) -> None:
        """A custom contact property the portal already has (as an admin would create it)."""
        with self._lock:
            self.contact_properties[name] = {"name": name, "type": "string", "hasUniqueValue": unique}

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
            if request.path in TOKEN_PATHS:
                return self._oauth(request)
            if request.path == REVOKE_PATH:
                return self._revoke(request)
            bucket, failure = self._authenticate(request)
            if failure:
                return failure
            limited, headers = self._count(bucket, request)
            if limited:
                return limited[0], limited[1], headers
            if self._failures:
                status, body, extra = self._failures.pop(0)
                body = body if body is not None else self._failure_body(status)
                return status, body, {**headers, **extra}
            try:
                status, body = self._route(request)
            except Reject as reject:
                status, body = reject.status, reject.body
            return status, body, headers

    def _failure_body(self, status: int) -> dict:
        if status == 429:
            return self._rate_limited_body("TEN_SECONDLY_ROLLING")
        if status == 409:
            return error(409, "Contact already exists. Existing ID: 1", "CONFLICT")[1]
        if status == 423:
            return error(423, "The record is locked by another write; try again", "LOCKED")[1]
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
            eu = self.ui_domain.startswith("app-eu1")
            return 200, {
                "portalId": self.portal_id,
                "accountType": "STANDARD",
                "timeZone": "Europe/Paris",
                "companyCurrency": "EUR",
                "additionalCurrencies": [],
                "utcOffset": "+01:00",
                "utcOffsetMilliseconds": 3_600_000,
                "uiDomain": self.ui_domain,
                "dataHostingLocation": "eu1" if eu else "na1",
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
            ("POST", "/crm/v3/properties/contacts"): self._create_property,
            **self.gdpr_routes(),  # GDPR delete, merge, note updates and archiving (hubspot_gdpr.py)
        }
        if (method, path) in routes:
            return routes[(method, path)](request)
        if (match := _PROPERTY.match(path)) and method == "GET":
            definition = self.contact_properties.get(unquote(match["name"]))
            if definition is None:
                return error(404, f"Unable to find property {match['name']}", "OBJECT_NOT_FOUND")
            return 200, definition
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
            return 200, self._note_out(note_id, wanted(request, DEFAULT_NOTE_PROPERTIES))
        if path.startswith(("/crm/v3/objects/contacts", "/crm/v3/objects/notes")):
            return error(405, f"HTTP method {method} is not supported by this resource", "VALIDATION_ERROR")
        return error(404, f"Unable to route {method} {path}", "OBJECT_NOT_FOUND")

    # ---- OAuth (2026-03; v1 and v3 answer the same until they retire) ----------------------------

    def _oauth_form(self, request):
        if request.method != "POST":
            return None, (405, {"status": "error", "message": "POST only"}, {})
        form = request.form() if "urlencoded" in request.headers.get("Content-Type", "") else {}
        if not self.oauth_client or form.get("client_id") != self.oauth_client[0]:
            return None, (400, _oauth_error("BAD_CLIENT_ID", "missing or invalid client_id"), {})
        if form.get("client_secret") != self.oauth_client[1]:
            return None, (400, _oauth_error("BAD_CLIENT_SECRET", "missing or invalid client_secret"), {})
        return form, None

    def _oauth(self, request):
        form, refused = self._oauth_form(request)
        if refused:
            return refused
        self.token_paths.append(request.path)
        if form.get("grant_type") != "refresh_token":
            return 400, _oauth_error("BAD_GRANT_TYPE", "missing or unknown grant type"), {}
        if form.get("refresh_token") != self.oauth_client[2] or form["refresh_token"] in self.revoked:
            return 400, _oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token"), {}
        access = "CO" + secrets.token_urlsafe(24)
        self.issued_tokens[access] = self._now() + self.token_ttl
        self.refresh_count += 1
        answer = {
            "token_type": "bearer",
            "refresh_token": self.oauth_client[2],
            "access_token": access,
            "expires_in": self.token_ttl,
        }
        if request.path == "/oauth/2026-03/token":  # AccessTokenResponse of the 2026-03 spec
            answer.update(token_use="access_token", hub_id=self.portal_id, scopes=sorted(self.scopes))
        return 200, answer, {}

    def _revoke(self, request):
        form, refused = self._oauth_form(request)
        if refused:
            return refused
        if not form.get("token"):
            return 400, _oauth_error("BAD_REQUEST", "token is required"), {}
        self.revoked.append(form["token"])
        return 200, {"status": "SUCCESS"}, {}

    # ---- properties -----------------------------------------------------------------------------

    def _create_property(self, request):
        if SCHEMA_WRITE_SCOPE not in self.scopes:
            return error(
                403,
                "This app hasn't been granted all required scopes to make this call.",
                "MISSING_SCOPES",
                errors=[{"message": "missing scope", "context": {"requiredScopes": [SCHEMA_WRITE_SCOPE]}}],
            )
        definition = property_definition(self._body(request))
        if definition["name"] in self.contact_properties:
            return error(
                409, f"A property named '{definition['name']}' already exists.", "OBJECT_ALREADY_EXISTS"
            )
        self.contact_properties[definition["name"]] = definition
        return 201, definition

    # ---- contacts -------------------------------------------------------------------------------

    def _contact_out(self, contact_id: str, wanted=None, trace=None, new=None, written=False) -> dict:
        meta = self._meta[contact_id]
        props = dict(self.contacts[contact_id]) if self.echo_written_properties or not written else {}
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
        if new is not None:
            out["new"] = new
        if trace and self.echo_trace_ids:
            out["objectWriteTraceId"] = trace
        return out

    def _by_email(self, email: str) -> str | None:
        return self._by_property("email", email)

    def _by_property(self, name: str, value: str) -> str | None:
        """The contact holding `value` (case-insensitive) in property `name`, through an index kept by
        _store_contact and _delete_contact (a scan per lookup makes a 10,000-contact bench quadratic);
        rebuilt when a test wrote `contacts` directly."""
        value = (value or "").strip().lower()
        if not value:
            return None
        if self._indexed != self.contacts.version:
            self._reindex()
        contact_id = self._index.get((name, value))
        if contact_id is not None and (self.contacts.get(contact_id, {}).get(name) or "").lower() == value:
            return contact_id
        return None

    def _reindex(self) -> None:
        self._index = {}
        for contact_id, props in self.contacts.items():
            self._index_contact(contact_id, props)
        self._indexed = self.contacts.version

    def _index_contact(self, contact_id: str, props: dict) -> None:
        for name, value in props.items():
            if isinstance(value, str) and value.strip():
                self._index[(name, value.strip().lower())] = contact_id

    def _unique(self, name: str) -> bool:
        return bool(self.contact_properties.get(name, {}).get("hasUniqueValue"))

    def _check_properties(self, properties, current_id: str | None = None) -> dict:
        """The properties as HubSpot stores them, or a 400 VALIDATION_ERROR (409 for a unique value
        another contact holds)."""
        props = string_values(properties, refuse_blank=self.refuse_blank, known=self.contact_properties)
        current = self.contacts.get(current_id) if current_id else None
        problems = []
        if props.get("email") and not _EMAIL.match(props["email"]):
            problems.append(problem("email", f"Email address {props['email']} is invalid", "INVALID_EMAIL"))
        if props.get("hs_lead_status") and props["hs_lead_status"] not in self.lead_status_options:
            value = props["hs_lead_status"]
            message = f"{value} was not one of the allowed options: {self.lead_status_options}"
            problems.append(problem("hs_lead_status", message, "INVALID_OPTION"))
        stage = props.get("lifecyclestage")
        if stage and stage not in self.lifecycle_stage_options:
            message = f"{stage} was not one of the allowed options: {self.lifecycle_stage_options}"
            problems.append(problem("lifecyclestage", message, "INVALID_OPTION"))
        elif stage and current and self.refuse_lifecycle_backwards:
            before = current.get("lifecyclestage")
            options = self.lifecycle_stage_options
            if before in options and options.index(stage) < options.index(before) and stage != "other":
                message = f"lifecyclestage cannot move backwards from {before} to {stage}; clear it first"
                problems.append(problem("lifecyclestage", message, "INVALID_OPTION"))
        if problems:
            raise invalid_properties(problems)
        for name, value in props.items():
            holder = self._by_property(name, value) if self._unique(name) and name != "email" else None
            if holder and holder != current_id:
                raise Reject(
                    *error(
                        409,
                        f"A contact with {name} {value} already exists. Existing ID: {holder}",
                        "CONFLICT",
                    )
                )
        return props

    def _conflict(self, email: str, except_id: str | None = None):
        existing = self._by_email(email)
        if existing and existing != except_id:
            raise Reject(*error(409, f"Contact already exists. Existing ID: {existing}", "CONFLICT"))

    def _store_contact(self, props: dict, contact_id: str | None = None) -> str:
        now = time.time()
        up_to_date = self._indexed == self.contacts.version
        if contact_id is None:
            contact_id = str(next(self._ids))
            self.contacts[contact_id] = {}
            self._meta[contact_id] = {"created": now, "indexed": self._now() + self.search_index_lag}
        self.contacts[contact_id].update(props)
        self._meta[contact_id]["updated"] = now
        if up_to_date:
            self._index_contact(contact_id, props)
            self._indexed = self.contacts.version
        return contact_id

    def _create_contact(self, request):
        body = self._body(request)
        if "properties" not in body:
            raise invalid("Invalid input JSON: properties is required")
        props = self._check_properties(body.get("properties"))
        self._conflict(props.get("email"))
        contact_id = self._store_contact(props)
        return 201, self._contact_out(contact_id)

    def _contact_id(self, request, raw_id: str) -> str | None:
        id_property = (request.query.get("idProperty") or [None])[0]
        if id_property in (None, "hs_object_id"):
            raw_id = self.resolve_merged(raw_id)  # a merged-away id answers with the survivor
            return raw_id if raw_id in self.contacts else None
        if not self._unique(id_property):
            raise invalid(f"{id_property} is not a unique property")
        return self._by_property(id_property, raw_id)

    def _get_contact(self, request, raw_id: str):
        contact_id = self._contact_id(request, raw_id)
        if contact_id is None:
            return error(404, "resource not found", "OBJECT_NOT_FOUND")
        return 200, self._contact_out(contact_id, wanted(request, DEFAULT_CONTACT_PROPERTIES))

    def _update_contact(self, request, raw_id: str):
        contact_id = self._contact_id(request, raw_id)
        if contact_id is None:
            return error(404, "resource not found", "OBJECT_NOT_FOUND")
        props = self._check_properties(self._body(request).get("properties"), contact_id)
        self._conflict(props.get("email"), except_id=contact_id)
        self._store_contact(props, contact_id)
        return 200, self._contact_out(contact_id)

    def _delete_contact(self, contact_id: str):
        self.contacts.pop(contact_id, None)
        self._meta.pop(contact_id, None)
        return 204, b""

    def _body(self, request) -> dict:
        return _json(request)

    def _inputs(self, request, need_id: bool = False) -> list[dict]:
        return batch_inputs(self._body(request), need_id=need_id, max_size=self.max_batch)

    def _batch_answer(self, status: int, started: float, results: list, errors: list):
        body = {
            "status": "COMPLETE",
            "results": _shuffled(results),
            "startedAt": _iso(started),
            "completedAt": _iso(time.time()),
        }
        if errors:
            body.update(numErrors=len(errors), errors=_shuffled(errors))
            status = 207
        return status, body

    def _batch_create(self, request):
        """A conflict or an invalid value refuses the whole batch, as HubSpot does: nothing is stored."""
        started = time.time()
        checked, seen = [], set()
        for item in self._inputs(request):
            props = self._check_properties(item.get("properties"))
            email = props.get("email", "").lower()
            if email:
                self._conflict(email)
                if email in seen:
                    raise invalid(f"Duplicate emails found in batch input: [{email}]")
                seen.add(email)
            checked.append((props, item.get("objectWriteTraceId")))
        results = []
        for props, trace in checked:
            contact_id = self._store_contact(props)
            results.append(self._contact_out(contact_id, trace=trace, written=True))
        return self._batch_answer(201, started, results, [])

    def _batch_update(self, request):
        """Unknown ids are per-item errors (207, their ids in `context`); an invalid value or a conflict
        refuses the whole batch."""
        started = time.time()
        inputs = self._inputs(request, need_id=True)
        # A merged-away id writes the record it was merged into, whose id the result carries.
        ids = [self.resolve_merged(item["id"]) for item in inputs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise invalid(f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique")
        missing = [i for i in ids if i not in self.contacts]
        checked = []
        for item, contact_id in zip(inputs, ids, strict=True):
            if contact_id in missing:
                continue
            props = self._check_properties(item.get("properties"), contact_id)
            self._conflict(props.get("email"), except_id=contact_id)
            checked.append((contact_id, props, item.get("objectWriteTraceId")))
        results = []
        for contact_id, props, trace in checked:
            self._store_contact(props, contact_id)
            results.append(self._contact_out(contact_id, trace=trace, written=True))
        return self._batch_answer(200, started, results, not_found_errors(missing))

    def _batch_upsert(self, request):
        """Each input is upserted on its own: a bad one is an error of its own (207) whose `context`
        names the input's id, the others are written."""
        started = time.time()
        inputs = self._inputs(request, need_id=True)
        for item in inputs:
            name = item.get("idProperty") or "hs_object_id"
            if name != "hs_object_id" and not self._unique(name):
                raise invalid(f"{name} is not a unique property: idProperty must be unique")
        keys = [(i.get("idProperty"), i["id"].lower()) for i in inputs]
        duplicates = sorted({k[1] for k in keys if keys.count(k) > 1})
        if duplicates:
            raise invalid(f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique")
        results, errors = [], []
        for item in inputs:
            trace = item.get("objectWriteTraceId")
            try:
                contact_id, new = self._upsert_one(item)
            except Reject as reject:
                context = {"ids": [item["id"]]}
                if trace and self.echo_trace_ids:
                    context["objectWriteTraceId"] = [trace]
                errors.append(_item_error(reject, context))
                continue
            results.append(self._contact_out(contact_id, trace=trace, new=new, written=True))
        return self._batch_answer(200, started, results, errors)

    def _upsert_one(self, item) -> tuple[str, bool]:
        raw_id, name = item["id"], item.get("idProperty") or "hs_object_id"
        if name == "hs_object_id":
            if raw_id not in self.contacts:
                raise Reject(*error(404, f"No contact with hs_object_id {raw_id}", "OBJECT_NOT_FOUND"))
            contact_id = raw_id
        else:
            if name == "email" and not _EMAIL.match(raw_id):
                raise invalid(f"Email address {raw_id} is invalid")
            contact_id = self._by_property(name, raw_id)
        props = self._check_properties(item.get("properties"), contact_id)
        if contact_id is None:
            props.setdefault(name, raw_id)
            self._check_properties({name: raw_id})
        self._conflict(props.get("email"), except_id=contact_id)
        return self._store_contact(props, contact_id), contact_id is None


def _oauth_error(status: str, message: str) -> dict:
    return {"status": status, "message": message, "correlationId": str(uuid.uuid4())}


def _json(request) -> dict:
    try:
        body = request.json()
    except ValueError as exc:
        raise invalid(f"Invalid input JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise invalid("Invalid input JSON: expected an object")
    return body


class _Contacts(dict):
    """The fake's contacts: a dict that counts its writes, so that the lookup index knows when a test
    added or removed a contact directly (its own writes keep the index up to date as they go)."""

    version = 0

    def __setitem__(self, key, value):
        self.version += 1
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self.version += 1
        super().__delitem__(key)

    def pop(self, *args):
        self.version += 1
        return super().pop(*args)

    def clear(self):
        self.version += 1
        super().clear()
