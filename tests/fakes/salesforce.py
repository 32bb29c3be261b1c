"""A local Salesforce (OAuth token endpoint + REST data API) enforcing the contract in contracts.md.

One server is both the login host and the instance (`instance_url` is its own url). It issues tokens
(refresh_token, client_credentials, JWT bearer), refuses a data call without a live token (401
INVALID_SESSION_ID), counts API calls (`Sforce-Limit-Info`, 403 REQUEST_LIMIT_EXCEEDED past
`daily_limit`), knows the Contact and Task fields (unknown field: INVALID_FIELD; lengths, required
LastName, email format, restricted picklists), upserts by the external-id field one by one or 200 at a
time (per-record results, `allOrNone`), creates Tasks that must point at an existing contact, and answers
a small SOQL subset with Salesforce's string-literal escaping (a broken literal: MALFORMED_QUERY).

Switches: `fail_next(status, body=None, count=1)`, `expire_tokens()`, attributes `daily_limit`,
`query_page_size`, `instance_url` (what token answers name as the instance; None: this server).
Recorded: `queries` (decoded q strings), `contacts`, `tasks`, `token_grants`.
"""

import base64
import hashlib
import hmac
import itertools
import re
import secrets
import threading
import time
from datetime import UTC, date, datetime
from urllib.parse import unquote

import jwt

from tests.fakes import FakeServer

LOGIN_HOSTS = ("https://login.salesforce.com", "https://test.salesforce.com")
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ORG_ID = "00D5g000004FakeEAI"
USER_ID = "0055g00000FakeUAAQ"
ROLLED_BACK = (
    "Record rolled back because not all records were valid and the request was using AllOrNone header"
)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VERSION = re.compile(r"^v\d+\.\d+$")

# name: (type, length, createable)
_CONTACT_FIELDS = {
    "Id": ("id", 18, False),
    "FirstName": ("string", 40, True),
    "LastName": ("string", 80, True),
    "Email": ("email", 80, True),
    "Phone": ("phone", 40, True),
    "MobilePhone": ("phone", 40, True),
    "Description": ("textarea", 32000, True),
    "Title": ("string", 128, True),
    "LeadSource": ("picklist", 255, True),
    "HasOptedOutOfEmail": ("boolean", 0, True),
    "MailingCity": ("string", 40, True),
    "MailingCountry": ("string", 80, True),
    "AccountId": ("reference", 18, True),
    "OwnerId": ("reference", 18, True),
    "CreatedDate": ("datetime", 0, False),
    "LastModifiedDate": ("datetime", 0, False),
}
_TASK_FIELDS = {
    "Id": ("id", 18, False),
    "WhoId": ("reference", 18, True),
    "WhatId": ("reference", 18, True),
    "Subject": ("combobox", 255, True),
    "Description": ("textarea", 32000, True),
    "ActivityDate": ("date", 0, True),
    "Status": ("picklist", 255, True),
    "Priority": ("picklist", 40, True),
    "TaskSubtype": ("picklist", 40, True),
    "Type": ("picklist", 40, True),
    "CallType": ("picklist", 40, True),
    "CallDurationInSeconds": ("int", 0, True),
    "OwnerId": ("reference", 18, True),
    "CreatedDate": ("datetime", 0, False),
    "LastModifiedDate": ("datetime", 0, False),
}
_RESTRICTED = {
    ("Task", "Status"): ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
    ("Task", "Priority"): ("High", "Normal", "Low"),
    ("Task", "TaskSubtype"): ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
    ("Task", "CallType"): ("Internal", "Inbound", "Outbound"),
}
_DEFAULTS = {"Task": {"Status": "Not Started", "Priority": "Normal", "TaskSubtype": "Task"}}
_PREFIX = {"Contact": "003", "Task": "00T"}


class _Reject(Exception):
    """A request-level answer: (status, Salesforce's error list)."""

    def __init__(self, status: int, error_code: str, message: str, fields=None):
        super().__init__(message)
        self.status = status
        self.body = [{"message": message, "errorCode": error_code, "fields": list(fields or [])}]


def _record_error(code: str, message: str, fields=()) -> dict:
    return {"statusCode": code, "message": message, "fields": list(fields)}


def _checksum(id15: str) -> str:
    out = ""
    for i in range(3):
        bits = sum(1 << j for j, c in enumerate(id15[i * 5 : i * 5 + 5]) if "A" <= c <= "Z")
        out += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return out


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class FakeSalesforce(FakeServer):
    def __init__(
        self,
        client_id: str = "sf-client",
        client_secret: str = "sf-secret",
        refresh_token: str = "sf-refresh",
        api_version: str = "v67.0",
        external_id_field: str = "Coccinelle_Id__c",
        max_batch: int = 200,
        jwt_public_key_pem: str | bytes | None = None,
        username: str = "owner@example.com",
        extra_contact_fields: tuple[str, ...] = (),
        extra_task_fields: tuple[str, ...] = (),
    ):
        super().__init__()
        # poll more often than the default 0.5 s so that leaving the `with` block is quick
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._server.socket.listen(128)  # a deeper backlog than 5: concurrent clients get no SYN retry
        if jwt_public_key_pem is not None and not jwt.algorithms.has_crypto:
            raise RuntimeError("verifying RS256 JWTs needs the `cryptography` package")
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.api_version, self.external_id_field, self.max_batch = api_version, external_id_field, max_batch
        self.jwt_public_key_pem, self.username = jwt_public_key_pem, username
        self.jwt_max_lifetime = 180  # Salesforce: exp "within 3 minutes"
        self.daily_limit = 100_000
        self.instance_url: str | None = None
        self.api_calls = 0
        self.query_page_size = 2000
        self.contacts: dict[str, dict] = {}
        self.tasks: dict[str, dict] = {}
        self.queries: list[str] = []
        self.token_grants: list[str] = []  # grant_type of every token issued
        self._fields = {
            "Contact": dict(_CONTACT_FIELDS, **{external_id_field: ("string", 255, True)}),
            "Task": dict(_TASK_FIELDS),
        }
        for name in extra_contact_fields:
            self._fields["Contact"][name] = ("string", 255, True)
        for name in extra_task_fields:
            self._fields["Task"][name] = ("string", 255, True)
        self._tables = {"Contact": self.contacts, "Task": self.tasks}
        self._live_tokens: set[str] = set()
        self._failures: list[tuple[int, list | None]] = []
        self._cursors: dict[str, list[dict]] = {}
        self._counter = itertools.count(1)
        self._lock = threading.RLock()

    # ---- switches -------------------------------------------------------------------------------

    def fail_next(self, status: int, body: list | None = None, count: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, body)] * count)

    def expire_tokens(self) -> None:
        """Every access token issued so far is now invalid (401 INVALID_SESSION_ID)."""
        with self._lock:
            self._live_tokens.clear()

    # ---- dispatch -------------------------------------------------------------------------------

    def handle(self, request):
        with self._lock:
            if request.path == "/services/oauth2/token":
                status, body = self._token(request)
                return status, body, {}
            if request.path.rstrip("/") == "/services/data" and request.method == "GET":
                label = "Summer '26" if self.api_version == "v67.0" else self.api_version
                version = self.api_version[1:]
                return (
                    200,
                    [{"label": label, "url": f"/services/data/{self.api_version}", "version": version}],
                    {},
                )
            if not request.path.startswith("/services/data/"):
                return (
                    404,
                    [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
                    {},
                )
            status, body = self._data(request)
            return status, body, {"Sforce-Limit-Info": f"api-usage={self.api_calls}/{self.daily_limit}"}

    def _data(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token not in self._live_tokens:
            return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        parts = [unquote(p) for p in request.path.split("/")[3:]]
        if parts and parts[-1] == "":
            parts.pop()
        if not parts or parts[0] != self.api_version:
            return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        if self.api_calls >= self.daily_limit:
            return 403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        self.api_calls += 1
        if self._failures:
            status, body = self._failures.pop(0)
            return status, body if body is not None else _failure_body(status)
        try:
            return self._route(request, parts[1:])
        except _Reject as reject:
            return reject.status, reject.body

    def _route(self, request, parts: list[str]):
        method = request.method
        if parts == ["limits"] and method == "GET":
            remaining = self.daily_limit - self.api_calls
            return 200, {
                "DailyApiRequests": {"Max": self.daily_limit, "Remaining": remaining},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            }
        if parts == ["query"] and method == "GET":
            return self._query(request)
        if len(parts) == 2 and parts[0] == "query" and method == "GET":
            return self._next_page(parts[1])
        if len(parts) >= 2 and parts[0] == "sobjects" and parts[1] in self._tables:
            return self._sobject(request, parts[1], parts[2:])
        if parts[:2] == ["composite", "sobjects"]:
            if len(parts) == 2 and method == "POST":
                return self._composite_create(request)
            if len(parts) == 2 and method == "PATCH":
                return self._composite_update(request)
            if len(parts) == 4 and parts[2] == "Contact" and method == "PATCH":
                return self._composite_upsert(request, parts[3])
        if len(parts) >= 2 and parts[0] == "sobjects":
            raise _Reject(
                404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{parts[1]}'"
            )
        raise _Reject(404, "NOT_FOUND", "The requested resource does not exist")

    def _sobject(self, request, sobject: str, rest: list[str]):
        method = request.method
        if rest == ["describe"] and method == "GET":
            return 200, self._describe(sobject)
        if not rest and method == "POST":
            return self._create_one(sobject, _json(request))
        if len(rest) == 1:
            record_id = self._resolve(sobject, rest[0])
            if record_id is None:
                raise _Reject(404, "NOT_FOUND", "The requested resource does not exist")
            if method == "GET":
                return 200, self._out(sobject, record_id, list(self._fields[sobject]))
            if method == "PATCH":
                clean, errors = self._check(sobject, _json(request), creating=False, record_id=record_id)
                if errors:
                    return 400, [_as_single(e) for e in errors]
                self._save(sobject, clean, record_id)
                return 204, b""
            if method == "DELETE":
                del self._tables[sobject][record_id]
                return 204, b""
        if len(rest) == 2 and sobject == "Contact" and method in ("GET", "PATCH"):
            field, value = rest
            if field.lower() != self.external_id_field.lower():
                raise _Reject(
                    404,
                    "NOT_FOUND",
                    f"Provided external ID field does not exist or is not accessible: {field}",
                )
            return self._upsert_one(request, value) if method == "PATCH" else self._get_by_external(value)
        raise _Reject(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed.")

    # ---- OAuth ----------------------------------------------------------------------------------

    def _token(self, request):
        if request.method != "POST":
            return 400, {"error": "invalid_request", "error_description": "must use HTTP POST"}
        content_type = request.headers.get("Content-Type", "")
        form = request.form() if "application/x-www-form-urlencoded" in content_type else {}
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
            if form.get("refresh_token") != self.refresh_token:
                return 400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
        elif grant == "client_credentials":
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        elif grant == JWT_GRANT:
            problem = self._jwt_problem(form.get("assertion"))
            if problem:
                return 400, {"error": "invalid_grant", "error_description": problem}
        else:
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
        token = f"{ORG_ID[:15]}!AQ" + secrets.token_urlsafe(48)
        self._live_tokens.add(token)
        self.token_grants.append(grant)
        issued_at = str(int(time.time() * 1000))
        identity = f"{self.url}/id/{ORG_ID}/{USER_ID}"
        signature = base64.b64encode(
            hmac.new(self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        ).decode()
        return 200, {
            "access_token": token,
            "instance_url": self.url if self.instance_url is None else self.instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": signature,
            "scope": "api refresh_token",
        }

    def _jwt_problem(self, assertion) -> str | None:
        if self.jwt_public_key_pem is None:
            return "JWT bearer flow is not configured for this connected app (no certificate)"
        if not assertion:
            return "invalid assertion: missing"
        try:
            claims = jwt.decode(
                assertion,
                self.jwt_public_key_pem,
                algorithms=["RS256"],
                audience=[self.url, *LOGIN_HOSTS],
                issuer=self.client_id,
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            return "expired authorization code (exp is in the past)"
        except jwt.InvalidAudienceError:
            return "audience is invalid"
        except jwt.InvalidIssuerError:
            return "invalid client id (iss)"
        except jwt.PyJWTError as exc:
            return f"invalid assertion: {exc}"
        if claims.get("sub") != self.username:
            return "user hasn't approved this consumer (unknown sub)"
        if claims["exp"] > time.time() + self.jwt_max_lifetime + 10:
            return f"invalid assertion: exp must be within {self.jwt_max_lifetime} seconds"
        return None

    # ---- records --------------------------------------------------------------------------------

    def _new_id(self, sobject: str) -> str:
        n, digits = next(self._counter), ""
        for _ in range(10):
            n, r = divmod(n, 62)
            digits = _ALPHABET[r] + digits
        id15 = _PREFIX[sobject] + "Dn" + digits
        return id15 + _checksum(id15)

    def _resolve(self, sobject: str, ref) -> str | None:
        """A record id from an 18- or 15-character reference (15 is case-sensitive, as in Salesforce)."""
        ref = str(ref or "")
        table = self._tables[sobject]
        if len(ref) == 18 and ref in table:
            return ref
        if len(ref) in (15, 18):
            return next((key for key in table if key[:15] == ref[:15]), None)
        return None

    def _describe(self, sobject: str) -> dict:
        fields = []
        for name, (kind, length, createable) in self._fields[sobject].items():
            field = {
                "name": name,
                "label": name.removesuffix("__c").replace("_", " "),
                "type": kind,
                "length": length,
                "createable": createable,
                "updateable": createable,
                "nillable": not (name in ("Id", "LastName") or kind == "boolean"),
                "externalId": name == self.external_id_field and sobject == "Contact",
                "unique": name == self.external_id_field and sobject == "Contact",
                "idLookup": name == "Id" or name == self.external_id_field or name == "Email",
                "custom": name.endswith("__c"),
            }
            picklist = _RESTRICTED.get((sobject, name))
            if picklist:
                field["restrictedPicklist"] = True
                field["picklistValues"] = [{"value": v, "label": v, "active": True} for v in picklist]
            fields.append(field)
        return {
            "name": sobject,
            "label": sobject,
            "keyPrefix": _PREFIX[sobject],
            "createable": True,
            "updateable": True,
            "queryable": True,
            "fields": fields,
            "urls": {"sobject": f"/services/data/{self.api_version}/sobjects/{sobject}"},
        }

    def _canonical(self, sobject: str, name: str) -> str | None:
        lowered = name.lower()
        return next((f for f in self._fields[sobject] if f.lower() == lowered), None)

    def _check(self, sobject: str, record, creating: bool, record_id: str | None = None):
        """(clean fields, per-record errors); an unknown field or a bad value type rejects the request."""
        if not isinstance(record, dict):
            raise _Reject(400, "JSON_PARSER_ERROR", "Expected a JSON object for the record")
        clean, errors = {}, []
        for raw_name, value in record.items():
            if raw_name == "attributes":
                continue
            name = self._canonical(sobject, raw_name)
            if name is None:
                raise _Reject(
                    400, "INVALID_FIELD", f"No such column '{raw_name}' on sobject of type {sobject}"
                )
            kind, length, createable = self._fields[sobject][name]
            if not createable:
                errors.append(
                    _record_error(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        f"Unable to create/update fields: {name}. Please check the security settings of this "
                        "field and verify that it is read/write for your profile or permission set.",
                        [name],
                    )
                )
                continue
            clean[name] = self._coerce(sobject, name, kind, value)
        if creating:
            for name, default in _DEFAULTS.get(sobject, {}).items():
                clean.setdefault(name, default)
        current = self._tables[sobject].get(record_id, {}) if record_id else {}
        errors.extend(self._field_errors(sobject, clean, creating, current, record_id))
        return clean, errors

    def _coerce(self, sobject: str, name: str, kind: str, value):
        if value is None:
            return None
        if isinstance(value, dict | list):
            raise _Reject(
                400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of {kind} from {type(value).__name__}"
            )
        if kind == "boolean":
            if not isinstance(value, bool):
                raise _Reject(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of boolean: {value!r}")
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _Reject(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of int: {value!r}")
            return value
        value = (
            value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        )
        if kind == "date":
            try:
                if not _DATE.match(value):
                    raise ValueError(value)
                date.fromisoformat(value)
            except ValueError as exc:
                raise _Reject(
                    400,
                    "JSON_PARSER_ERROR",
                    f"Cannot deserialize instance of date from VALUE_STRING value {value} or request may be "
                    f"missing a required field (expected YYYY-MM-DD) at [{sobject}.{name}]",
                ) from exc
        return value

    def _field_errors(self, sobject, clean, creating, current, record_id) -> list[dict]:
        errors = []
        if sobject == "Contact":
            last = clean["LastName"] if "LastName" in clean else current.get("LastName")
            if (creating or "LastName" in clean) and not last:
                errors.append(
                    _record_error(
                        "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ["LastName"]
                    )
                )
            email = clean.get("Email")
            if email and not _EMAIL.match(email):
                errors.append(
                    _record_error(
                        "INVALID_EMAIL_ADDRESS", f"Email: invalid email address: {email}", ["Email"]
                    )
                )
            ext = clean.get(self.external_id_field)
            if ext:
                other = self._find_external(ext)
                if other and other[0] != record_id:
                    errors.append(
                        _record_error(
                            "DUPLICATE_VALUE",
                            f"duplicate value found: {self.external_id_field} duplicates value on record "
                            f"with id: {other[0]}",
                            [self.external_id_field],
                        )
                    )
        for name, value in clean.items():
            kind, length, _ = self._fields[sobject][name]
            if isinstance(value, str) and length and len(value) > length:
                errors.append(
                    _record_error(
                        "STRING_TOO_LONG",
                        f"{name}: data value too large: {value[:20]}... (max length={length})",
                        [name],
                    )
                )
            allowed = _RESTRICTED.get((sobject, name))
            if allowed and value is not None and value not in allowed:
                errors.append(
                    _record_error(
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        f"{name}: bad value for restricted picklist field: {value}",
                        [name],
                    )
                )
            if kind == "reference" and value and name == "WhoId" and self._resolve("Contact", value) is None:
                errors.append(
                    _record_error(
                        "INVALID_CROSS_REFERENCE_KEY", f"{name}: id value of incorrect type: {value}", [name]
                    )
                )
        return errors

    def _save(self, sobject: str, clean: dict, record_id: str | None = None) -> str:
        table = self._tables[sobject]
        if sobject == "Task" and clean.get("WhoId"):
            clean = dict(clean, WhoId=self._resolve("Contact", clean["WhoId"]))
        if record_id is None:
            record_id = self._new_id(sobject)
            table[record_id] = {}
        table[record_id].update(clean)
        return record_id

    def _out(self, sobject: str, record_id: str, fields: list[str]) -> dict:
        stored = self._tables[sobject][record_id]
        record = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/{self.api_version}/sobjects/{sobject}/{record_id}",
            }
        }
        for name in fields:
            record[name] = record_id if name == "Id" else stored.get(name)
        return record

    def _find_external(self, value) -> list[str]:
        wanted = str(value).lower()
        return [
            cid
            for cid, fields in self.contacts.items()
            if str(fields.get(self.external_id_field) or "").lower() == wanted
        ]

    def _create_one(self, sobject: str, body):
        clean, errors = self._check(sobject, body, creating=True)
        if errors:
            return 400, [_as_single(e) for e in errors]
        return 201, {"id": self._save(sobject, clean), "success": True, "errors": []}

    def _get_by_external(self, value: str):
        matches = self._find_external(value)
        if not matches:
            raise _Reject(404, "NOT_FOUND", "The requested resource does not exist")
        if len(matches) > 1:
            return 300, [f"/services/data/{self.api_version}/sobjects/Contact/{m}" for m in matches]
        return 200, self._out("Contact", matches[0], list(self._fields["Contact"]))

    def _upsert_one(self, request, value: str):
        body = _json(request)
        matches = self._find_external(value)
        if len(matches) > 1:
            return 300, [f"/services/data/{self.api_version}/sobjects/Contact/{m}" for m in matches]
        record_id = matches[0] if matches else None
        body = {k: v for k, v in body.items() if k.lower() != self.external_id_field.lower()}
        body[self.external_id_field] = value
        clean, errors = self._check("Contact", body, creating=record_id is None, record_id=record_id)
        if errors:
            return 400, [_as_single(e) for e in errors]
        saved = self._save("Contact", clean, record_id)
        created = record_id is None
        return (201 if created else 200), {"id": saved, "success": True, "errors": [], "created": created}

    def _records(self, request) -> tuple[list, bool]:
        body = _json(request)
        records = body.get("records")
        if not isinstance(records, list):
            raise _Reject(400, "JSON_PARSER_ERROR", "records must be a JSON array")
        if len(records) > self.max_batch:
            raise _Reject(
                400,
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {self.max_batch} records into this call",
            )
        all_or_none = body.get("allOrNone", False)
        if not isinstance(all_or_none, bool):
            raise _Reject(400, "JSON_PARSER_ERROR", "allOrNone must be a boolean")
        for record in records:
            kind = ((record or {}).get("attributes") or {}).get("type") if isinstance(record, dict) else None
            if not kind:
                raise _Reject(
                    400, "INVALID_TYPE", "Must send a concrete entity type: attributes.type is missing"
                )
            if kind not in self._tables:
                raise _Reject(400, "INVALID_TYPE", f"sObject type '{kind}' is not supported.")
        return records, all_or_none

    def _commit(self, planned: list, all_or_none: bool) -> list[dict]:
        """planned: [(errors, action)], action() saves and returns a result; per-record results in order."""
        if all_or_none and any(errors for errors, _ in planned):
            return [
                {
                    "success": False,
                    "errors": errors or [_record_error("ALL_OR_NONE_OPERATION_ROLLED_BACK", ROLLED_BACK)],
                }
                for errors, _ in planned
            ]
        return [{"success": False, "errors": errors} if errors else action() for errors, action in planned]

    def _composite_create(self, request):
        records, all_or_none = self._records(request)
        planned = []
        for record in records:
            sobject = record["attributes"]["type"]
            clean, errors = self._check(sobject, record, creating=True)
            if "Id" in {self._canonical(sobject, k) for k in record}:
                errors = [_record_error("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])]
            planned.append((errors, _later(self._save_result, sobject, clean, None)))
        return 200, self._commit(planned, all_or_none)

    def _composite_update(self, request):
        """PATCH /composite/sobjects: update existing records, each named by its `id`."""
        records, all_or_none = self._records(request)
        planned = []
        for record in records:
            sobject = record["attributes"]["type"]
            raw_id = next((v for k, v in record.items() if k.lower() == "id"), None)
            record_id = self._resolve(sobject, raw_id) if raw_id else None
            if record_id is None:
                planned.append(
                    ([_record_error("INVALID_ID_FIELD", f"invalid record id: {raw_id}", ["Id"])], None)
                )
                continue
            fields = {k: v for k, v in record.items() if k.lower() != "id"}
            clean, errors = self._check(sobject, fields, creating=False, record_id=record_id)
            planned.append((errors, _later(self._save_result, sobject, clean, record_id)))
        return 200, self._commit(planned, all_or_none)

    def _save_result(self, sobject: str, clean: dict, record_id: str | None) -> dict:
        return {"id": self._save(sobject, clean, record_id), "success": True, "errors": []}

    def _composite_upsert(self, request, field: str):
        if field.lower() != self.external_id_field.lower():
            raise _Reject(
                400,
                "INVALID_FIELD",
                f"Field name provided, {field} is not an External ID or indexed field for Contact",
            )
        records, all_or_none = self._records(request)
        if any(r["attributes"]["type"] != "Contact" for r in records):
            raise _Reject(
                400, "INVALID_TYPE", "Every record must have attributes.type Contact on this resource"
            )
        values = [str(self._external_value(r) or "").lower() for r in records]
        planned = []
        for record, value in zip(records, values, strict=True):
            if not value:
                errors = [_record_error("MISSING_ARGUMENT", f"{self.external_id_field} not specified")]
                planned.append((errors, None))
                continue
            if values.count(value) > 1:
                errors = [
                    _record_error(
                        "DUPLICATE_EXTERNAL_ID",
                        f"Duplicate external id specified: {value}",
                        [self.external_id_field],
                    )
                ]
                planned.append((errors, None))
                continue
            matches = self._find_external(value)
            if len(matches) > 1:
                errors = [
                    _record_error(
                        "DUPLICATE_EXTERNAL_ID",
                        f"{self.external_id_field}: more than one record found for external id: {matches}",
                        [self.external_id_field],
                    )
                ]
                planned.append((errors, None))
                continue
            record_id = matches[0] if matches else None
            clean, errors = self._check("Contact", record, creating=record_id is None, record_id=record_id)
            planned.append((errors, _later(self._upsert_result, clean, record_id)))
        return 200, self._commit(planned, all_or_none)

    def _external_value(self, record: dict):
        return next((v for k, v in record.items() if k.lower() == self.external_id_field.lower()), None)

    def _upsert_result(self, clean: dict, record_id: str | None) -> dict:
        saved = self._save("Contact", clean, record_id)
        return {"id": saved, "success": True, "errors": [], "created": record_id is None}

    # ---- SOQL -----------------------------------------------------------------------------------

    def _query(self, request):
        q = (request.query.get("q") or [""])[0]
        self.queries.append(q)
        if not q.strip():
            raise _Reject(400, "MALFORMED_QUERY", "A query string has to be specified")
        parsed = _Soql(q, self._fields).parse()
        sobject = parsed["sobject"]
        table = self._tables[sobject]
        ids = [i for i in table if parsed["where"](self._row(sobject, i))]
        if parsed["order"]:
            field, descending = parsed["order"]
            ids.sort(key=lambda i: _sort_key(self._row(sobject, i).get(field)), reverse=descending)
        ids = ids[parsed["offset"] :]
        if parsed["limit"] is not None:
            ids = ids[: parsed["limit"]]
        if parsed["count"]:
            return 200, {"totalSize": len(ids), "done": True, "records": []}
        records = [self._out(sobject, i, parsed["fields"]) for i in ids]
        return 200, self._page(records, None, 0)

    def _page(self, records: list[dict], locator: str | None, offset: int) -> dict:
        size = self.query_page_size
        page = records[offset : offset + size]
        body = {"totalSize": len(records), "done": offset + size >= len(records), "records": page}
        if not body["done"]:
            if locator is None:
                locator = "01g" + secrets.token_hex(6).upper() + "AAA"
                self._cursors[locator] = records
            body["nextRecordsUrl"] = f"/services/data/{self.api_version}/query/{locator}-{offset + size}"
        return body

    def _next_page(self, cursor: str):
        locator, _, offset = cursor.rpartition("-")
        if locator not in self._cursors or not offset.isdigit():
            raise _Reject(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return 200, self._page(self._cursors[locator], locator, int(offset))

    def _row(self, sobject: str, record_id: str) -> dict:
        return dict(self._tables[sobject][record_id], Id=record_id)


# ---- a small SOQL parser ----------------------------------------------------------------------------

_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "like", "limit", "offset", "order", "by"}
_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")


def _malformed(message: str) -> _Reject:
    return _Reject(400, "MALFORMED_QUERY", message)


def _tokens(q: str) -> list[tuple[str, object, int]]:
    out, i = [], 0
    while i < len(q):
        c = q[i]
        if c.isspace():
            i += 1
        elif c == "'":
            start, i, chars = i, i + 1, []
            while True:
                if i >= len(q):
                    raise _malformed(
                        f"unexpected end of query: unterminated string literal at column {start + 1}"
                    )
                c = q[i]
                if c == "'":
                    i += 1
                    break
                if c == "\\":
                    nxt = q[i + 1] if i + 1 < len(q) else ""
                    if nxt in _ESCAPES:
                        chars.append(_ESCAPES[nxt])
                    elif nxt in ("%", "_"):
                        chars.append("\\" + nxt)  # a literal % or _ for LIKE
                    elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", q[i + 2 : i + 6]):
                        chars.append(chr(int(q[i + 2 : i + 6], 16)))
                        i += 4
                    else:
                        raise _malformed(
                            f"Invalid string literal: illegal escape sequence \\{nxt} at column {i + 1}"
                        )
                    i += 2
                    continue
                if ord(c) < 0x20:
                    raise _malformed(f"Invalid string literal: unescaped control character at column {i + 1}")
                chars.append(c)
                i += 1
            out.append(("str", "".join(chars), start))
        elif c in ",()":
            out.append((c, c, i))
            i += 1
        elif op := next((o for o in _OPERATORS if q.startswith(o, i)), None):
            out.append(("op", "!=" if op == "<>" else op, i))
            i += len(op)
        elif match := re.compile(r"[A-Za-z_][A-Za-z0-9_.]*").match(q, i):
            word = match.group()
            out.append(("kw" if word.lower() in _KEYWORDS else "name", word, i))
            i = match.end()
        elif match := re.compile(r"-?\d+(\.\d+)?").match(q, i):
            out.append(("num", match.group(), i))
            i = match.end()
        else:
            raise _malformed(f"unexpected token: '{c}' at column {i + 1}")
    return out


def _sort_key(value):
    return (value is None, str(value).lower() if value is not None else "")


class _Soql:
    """SELECT f, … | COUNT() FROM Contact|Task [WHERE …] [ORDER BY f [ASC|DESC]] [LIMIT n] [OFFSET n]."""

    def __init__(self, q: str, fields: dict):
        self.tokens, self.pos, self.fields = _tokens(q), 0, fields

    def peek(self, kind=None, word=None):
        if self.pos >= len(self.tokens):
            return None
        token = self.tokens[self.pos]
        if kind and token[0] != kind:
            return None
        if word and str(token[1]).lower() != word:
            return None
        return token

    def take(self, kind=None, word=None):
        token = self.peek(kind, word)
        if token is None:
            if self.pos < len(self.tokens):
                got = self.tokens[self.pos]
                raise _malformed(f"unexpected token: '{got[1]}' at column {got[2] + 1}")
            raise _malformed(f"unexpected end of query: expecting {word or kind}")
        self.pos += 1
        return token

    def parse(self) -> dict:
        self.take("kw", "select")
        names, count = [], False
        if self.peek("name", "count"):
            self.take()
            self.take("(")
            self.take(")")
            count = True
        else:
            names.append(self.take("name")[1])
            while self.peek(","):
                self.take()
                names.append(self.take("name")[1])
        self.take("kw", "from")
        sobject_raw = self.take("name")[1]
        self.sobject = next((s for s in self.fields if s.lower() == sobject_raw.lower()), None)
        if self.sobject is None:
            raise _Reject(400, "INVALID_TYPE", f"sObject type '{sobject_raw}' is not supported.")
        fields = [self.field(n) for n in names]
        where = lambda row: True  # noqa: E731
        if self.peek("kw", "where"):
            self.take()
            where = self.condition()
        order = None
        if self.peek("kw", "order"):
            self.take()
            self.take("kw", "by")
            field = self.field(self.take("name")[1])
            descending = False
            if self.peek("name", "desc") or self.peek("name", "asc"):
                descending = self.take()[1].lower() == "desc"
            order = (field, descending)
        limit = offset = None
        if self.peek("kw", "limit"):
            self.take()
            limit = int(self.take("num")[1])
        if self.peek("kw", "offset"):
            self.take()
            offset = int(self.take("num")[1])
        if self.pos < len(self.tokens):
            got = self.tokens[self.pos]
            raise _malformed(f"unexpected token: '{got[1]}' at column {got[2] + 1}")
        return {
            "sobject": self.sobject,
            "fields": fields,
            "count": count,
            "where": where,
            "order": order,
            "limit": limit,
            "offset": offset or 0,
        }

    def field(self, name: str) -> str:
        canonical = next((f for f in self.fields[self.sobject] if f.lower() == name.lower()), None)
        if canonical is None:
            raise _Reject(400, "INVALID_FIELD", f"No such column '{name}' on entity '{self.sobject}'.")
        return canonical

    def condition(self):
        left = self.conjunction()
        while self.peek("kw", "or"):
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda row: a(row) or b(row))(left, right)
        return left

    def conjunction(self):
        left = self.factor()
        while self.peek("kw", "and"):
            self.take()
            right = self.factor()
            left = (lambda a, b: lambda row: a(row) and b(row))(left, right)
        return left

    def factor(self):
        if self.peek("kw", "not"):
            self.take()
            inner = self.factor()
            return lambda row: not inner(row)
        if self.peek("("):
            self.take()
            inner = self.condition()
            self.take(")")
            return inner
        field = self.field(self.take("name")[1])
        kind = self.fields[self.sobject][field][0]
        negate = False
        if self.peek("kw", "not"):
            self.take()
            negate = True
        if self.peek("kw", "in"):
            self.take()
            self.take("(")
            values = [self.value()]
            while self.peek(","):
                self.take()
                values.append(self.value())
            self.take(")")
            return lambda row: any(_equal(kind, row.get(field), v) for v in values) != negate
        if negate:
            got = self.tokens[self.pos - 1]
            raise _malformed(f"unexpected token: '{got[1]}' at column {got[2] + 1}")
        if self.peek("kw", "like"):
            self.take()
            pattern = _like(self.take("str")[1])
            return lambda row: row.get(field) is not None and bool(pattern.fullmatch(str(row.get(field))))
        op = self.take("op")[1]
        value = self.value()
        if op == "=":
            return lambda row: _equal(kind, row.get(field), value)
        if op == "!=":
            return lambda row: not _equal(kind, row.get(field), value)
        compare = {"<": lambda a, b: a < b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b}
        compare[">="] = lambda a, b: a >= b
        return lambda row: (
            row.get(field) is not None
            and value is not None
            and compare[op](_sort_key(row.get(field)), _sort_key(value))
        )

    def value(self):
        if self.peek("str"):
            return self.take()[1]
        if self.peek("num"):
            return self.take()[1]
        token = self.take("name")
        word = str(token[1]).lower()
        if word in ("null", "true", "false"):
            return {"null": None, "true": True, "false": False}[word]
        raise _malformed(f"unexpected token: '{token[1]}' at column {token[2] + 1}")


def _equal(kind: str, have, want) -> bool:
    if want is None or have is None:
        return have is None and want is None
    if kind in ("id", "reference"):
        return str(have)[:15] == str(want)[:15]
    if isinstance(want, bool) or isinstance(have, bool):
        return have == want
    return str(have).lower() == str(want).lower()  # SOQL string comparison ignores case


def _like(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_":
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        out += ".*" if pattern[i] == "%" else "." if pattern[i] == "_" else re.escape(pattern[i])
        i += 1
    return re.compile(out, re.IGNORECASE | re.DOTALL)


# ---- helpers ----------------------------------------------------------------------------------------


def _later(fn, *args):
    return lambda: fn(*args)


def _as_single(error: dict) -> dict:
    return {"message": error["message"], "errorCode": error["statusCode"], "fields": error["fields"]}


def _json(request):
    try:
        body = request.json()
    except ValueError as exc:
        raise _Reject(400, "JSON_PARSER_ERROR", f"Unexpected character in JSON body: {exc}") from exc
    if not isinstance(body, dict):
        raise _Reject(400, "JSON_PARSER_ERROR", "Expected a JSON object")
    return body


def _failure_body(status: int) -> list:
    if status == 401:
        return [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    if status == 403:
        return [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    if status == 503:
        return [{"message": "Server is unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
    if status >= 500:
        return [
            {
                "message": "An unexpected error occurred. Please include this ErrorId",
                "errorCode": "UNKNOWN_EXCEPTION",
            }
        ]
    return [{"message": "fake failure", "errorCode": "BAD_REQUEST"}]
