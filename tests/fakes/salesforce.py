"""A local Salesforce (OAuth token endpoint + REST data API) enforcing the contract in contracts.md.

One server is both the login host and the instance (`instance_url` is its own url). It issues tokens
(refresh_token, client_credentials, JWT bearer), refuses a data call without a live token (401
INVALID_SESSION_ID), counts API calls (`Sforce-Limit-Info`, 403 REQUEST_LIMIT_EXCEEDED past
`daily_limit`), knows the Contact and Task fields (unknown field: INVALID_FIELD; lengths, required
LastName, email format, restricted picklists), upserts by the external-id field one by one or 200 at a
time (per-record results, `allOrNone`), creates Tasks that must point at an existing contact, and answers
a small SOQL subset with Salesforce's string-literal escaping (a broken literal: MALFORMED_QUERY),
deletes records 200 at a time and merges Contacts with the SOAP API's merge() (salesforce_merge.py).
Split in four: this module (routing, records, collections, query), salesforce_oauth.py (token and
revoke endpoints), salesforce_schema.py (fields and per-field checks), salesforce_soql.py (the parser).

Checked as the REST API Developer Guide documents it (sObject Collections create/update/upsert, sObject
rows, query, OAuth token and revoke; https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/
api_rest/): JSON bodies with `Content-Type: application/json`; collections are `{allOrNone, records}`
and nothing else, at most 200 records, each with `attributes.type`; an upsert collection names records by
the external id of its URL only (no `Id`), an update collection by `id` only; date fields are
`YYYY-MM-DD`, datetime fields ISO 8601 with a zone. Results come back one per record in request order,
`{id, success, errors: [{statusCode, message, fields}]}`, plus `created` on upserts, as in the guide's
examples. One deliberate strictness Salesforce lacks: a field sent as `null` or "" is refused
(NULL_NOT_ALLOWED) unless `allow_nulls` is set, because Salesforce would clear what sales typed there
(contracts.md: omit unknown fields); with `allow_nulls` it clears the field as Salesforce does.

Switches: `fail_next(status, body=None, count=1)` (whole calls), `fail_next_records(code, count=1)` (the
next records of collection calls fail on their own with that statusCode, e.g. UNABLE_TO_LOCK_ROW),
`expire_tokens()`, attributes `daily_limit`, `query_page_size`, `allow_nulls`, `instance_url` (what
token answers name as the instance; None: this server).
Recorded: `queries` (decoded q strings), `contacts`, `tasks`, `token_grants`, `revoked` (tokens revoked).
Contacts written straight into `contacts` are found by external id once their count changes (the index
is rebuilt then); call `reindex()` after editing a stored contact's external id in place.
"""

import collections
import itertools
import secrets
import threading
from datetime import UTC, datetime
from urllib.parse import unquote

import jwt

from tests.fakes import FakeServer
from tests.fakes.salesforce_merge import MergeMixin
from tests.fakes.salesforce_oauth import OAuthMixin
from tests.fakes.salesforce_schema import _CONTACT_FIELDS, _PREFIX, _TASK_FIELDS, SchemaMixin, _record_error
from tests.fakes.salesforce_soql import _Reject, _Soql, _sort_key

ROLLED_BACK = (
    "Record rolled back because not all records were valid and the request was using AllOrNone header"
)
_COLLECTION_KEYS = {"allOrNone", "records"}
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _checksum(id15: str) -> str:
    out = ""
    for i in range(3):
        bits = sum(1 << j for j, c in enumerate(id15[i * 5 : i * 5 + 5]) if "A" <= c <= "Z")
        out += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return out


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class FakeSalesforce(OAuthMixin, SchemaMixin, MergeMixin, FakeServer):
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
        self.revoked: list[str] = []
        self.allow_nulls = False
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
        self._record_failures: list[str] = []
        self._by_external: dict[str, list[str]] = {}
        self._indexed = 0
        self._refresh_tokens_revoked = False
        self._tokens_of_refresh: set[str] = set()
        self._cursors: dict[str, list[dict]] = {}
        self._counter = itertools.count(1)
        self._lock = threading.RLock()
        self._init_merge()

    # ---- switches -------------------------------------------------------------------------------

    def fail_next(self, status: int, body: list | None = None, count: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, body)] * count)

    def fail_next_records(self, code: str, count: int = 1) -> None:
        """The next `count` records of collection calls fail with this statusCode, unsaved."""
        with self._lock:
            self._record_failures.extend([code] * count)

    def reindex(self) -> None:
        with self._lock:
            self._by_external = collections.defaultdict(list)
            for cid, fields in self.contacts.items():
                value = str(fields.get(self.external_id_field) or "").lower()
                if value:
                    self._by_external[value].append(cid)
            self._indexed = len(self.contacts)

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
            if request.path == "/services/oauth2/revoke":
                status, body = self._revoke(request)
                return status, body, {}
            if request.path.rstrip("/") == "/services/data" and request.method == "GET":
                label = "Summer '26" if self.api_version == "v67.0" else self.api_version
                version = self.api_version[1:]
                return (
                    200,
                    [{"label": label, "url": f"/services/data/{self.api_version}", "version": version}],
                    {},
                )
            if request.path.startswith(f"/services/Soap/u/{self.api_version[1:]}"):
                return self._soap(request)  # merge() (salesforce_merge.py)
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
        if request.body and "application/json" not in request.headers.get("Content-Type", ""):
            return 415, [{"errorCode": "UNSUPPORTED_MEDIA_TYPE", "message": "Content-Type must be JSON"}]
        if len(self.contacts) != self._indexed:
            self.reindex()
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
            if len(parts) == 2 and method == "DELETE":
                return self._composite_delete(request)
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
                self._delete_record(sobject, record_id)
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

    def _save(self, sobject: str, clean: dict, record_id: str | None = None) -> str:
        table = self._tables[sobject]
        if sobject == "Task" and clean.get("WhoId"):
            clean = dict(clean, WhoId=self._resolve("Contact", clean["WhoId"]))
        if record_id is None:
            record_id = self._new_id(sobject)
            table[record_id] = {}
            if sobject == "Contact":
                self._indexed += 1
        before = table[record_id].get(self.external_id_field) if sobject == "Contact" else None
        table[record_id].update(clean)
        after = table[record_id].get(self.external_id_field) if sobject == "Contact" else None
        if before != after:
            if before:
                self._by_external[str(before).lower()].remove(record_id)
            if after:
                self._by_external.setdefault(str(after).lower(), []).append(record_id)
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
        return list(self._by_external.get(str(value).lower(), ()))

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
        unknown = set(body) - _COLLECTION_KEYS
        if unknown:
            raise _Reject(
                400, "JSON_PARSER_ERROR", f"Unrecognized field {sorted(unknown)[0]!r} in the request"
            )
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
        results = []
        for errors, action in planned:
            if not errors and self._record_failures:
                code = self._record_failures.pop(0)
                errors = [_record_error(code, f"{code} (fake_failure)")]
            results.append({"success": False, "errors": errors} if errors else action())
        return results

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
        counts = collections.Counter(values)
        planned = []
        for record, value in zip(records, values, strict=True):
            if any(k.lower() == "id" for k in record):
                errors = [
                    _record_error(
                        "INVALID_FIELD", "Don't set the id field: upsert uses the external id", ["Id"]
                    )
                ]
                planned.append((errors, None))
                continue
            if not value:
                errors = [_record_error("MISSING_ARGUMENT", f"{self.external_id_field} not specified")]
                planned.append((errors, None))
                continue
            if counts[value] > 1:
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

    def _row(self, sobject: str, record_id: str) -> "_Row":
        return _Row(self._tables[sobject][record_id], record_id)


# ---- helpers ----------------------------------------------------------------------------------------


class _Row:
    """A stored record as SOQL sees it (with its Id), without copying it: queries scan every row."""

    __slots__ = ("fields", "record_id")

    def __init__(self, fields: dict, record_id: str):
        self.fields, self.record_id = fields, record_id

    def get(self, name, default=None):
        return self.record_id if name == "Id" else self.fields.get(name, default)


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
