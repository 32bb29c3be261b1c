"""Salesforce (REST): Contacts upserted on an external-id field, interactions as completed Tasks.

Options (CrmConnection.options): `login_url` (default SALESFORCE_LOGIN_URL, https://login.salesforce.com;
your My Domain for client credentials; only https on *.salesforce.com or *.force.com, or a host in
CRM_ALLOWED_HOSTS, and the same goes for the `instance_url` Salesforce answers), `auth` ("refresh_token",
default, "client_credentials" or "jwt"), `api_version` (default SALESFORCE_API_VERSION, v67.0),
`external_id_field` (the Contact field, marked External ID and Unique, that holds the Coccinelle customer
id; default `Coccinelle_Id__c`), `segment_field`, `language_field`, `tags_field` (Contact fields to fill;
"" or absent to skip), `on_erase` ("delete", default, or "anonymise"; see salesforce_erase.py).
Secrets: `client_id`, `client_secret`, `refresh_token` (refresh flow), or `client_id`, `username`,
`private_key` (PEM, JWT bearer flow). SALESFORCE_CLIENT_ID / _SECRET / _REFRESH_TOKEN fill the gaps,
only for a connection that signs in at Salesforce itself or at the install's SALESFORCE_LOGIN_URL.

Never blank: a field goes out only when Coccinelle knows a value for it. Salesforce clears a field sent
as `null` (or ""), so an unknown value is left out and whatever sales typed in Salesforce stays; clearing
a value in Coccinelle does not clear it in Salesforce either (the push cannot tell "cleared" from "never
known"). Requests follow the REST API Developer Guide: sObject Collections (`composite/sobjects`, at most
200 records, `allOrNone: false`, results in request order), upsert by external id, SOQL `query`.
"""

import logging
import re
import time
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from crm_backends import crypto, transport
from crm_backends import options as opt
from crm_backends.base import Check, CrmBackend, CrmError, PulledContact, PushOutcome
from crm_backends.salesforce_auth import SalesforceAuth
from crm_backends.salesforce_erase import EraseMergeMixin

logger = logging.getLogger(__name__)

MAX_BATCH = 200  # sObject Collections take up to 200 records
UNKNOWN_LAST_NAME = "(unknown)"  # LastName is required on create: the marker for a customer without one
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
_API_VERSION = re.compile(r"v\d{2,3}\.\d")
_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
# Whole-call answers worth trying again (Salesforce's "Status Codes and Error Responses"): the daily or
# concurrent request limit (403 REQUEST_LIMIT_EXCEEDED), an instance under load or in maintenance
# (503 SERVER_UNAVAILABLE), a record locked by another transaction (UNABLE_TO_LOCK_ROW), server errors.
# Salesforce's 409 is a version/state conflict, not a passing one.
_RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
_RETRY_CODES = {"REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"}
# One record's errors that pass with time; every other code (INVALID_FIELD, DUPLICATE_VALUE,
# REQUIRED_FIELD_MISSING, STRING_TOO_LONG, …) is that record's own problem.
_ITEM_RETRY_CODES = _RETRY_CODES | {"ALL_OR_NONE_OPERATION_ROLLED_BACK"}
# An update by record id that says the record is gone: upsert it by the external id instead.
_GONE_CODES = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "INVALID_ID_FIELD", "NOT_FOUND"}
_QUERY_CHARS = 6000  # SOQL goes in a GET URL (16,384 bytes at most): room for URL-encoding


def soql_literal(value: str) -> str:
    """A quoted SOQL string literal: every quote, backslash and control character escaped, so input
    can never end the literal and change the query."""
    return "'" + "".join(_SOQL_ESCAPES.get(ch, ch) for ch in str(value)) + "'"


class SalesforceBackend(SalesforceAuth, EraseMergeMixin, CrmBackend):
    name = "salesforce"
    label = "Salesforce"
    customer_batch_size = MAX_BATCH
    interaction_batch_size = MAX_BATCH
    options_schema = {
        "login_url": opt.vendor_url("salesforce"),
        "auth": opt.choice("refresh_token", "client_credentials", "jwt"),
        "api_version": opt.pattern(_API_VERSION.pattern, "v67.0"),
        "external_id_field": opt.api_name,
        "segment_field": opt.api_name,
        "language_field": opt.api_name,
        "tags_field": opt.api_name,
        "on_erase": opt.choice("delete", "anonymise"),
    }

    def __init__(self, connection, *, sleep=time.sleep):
        super().__init__(connection)
        self.login_url = (self.option("login_url", "") or settings.SALESFORCE_LOGIN_URL).rstrip("/")
        self.version = self.option("api_version", "") or settings.SALESFORCE_API_VERSION
        self.ext_field = self.option("external_id_field", "") or "Coccinelle_Id__c"
        # Both go into URLs (and the field into SOQL) as names: nothing but a version and an API name.
        if not _API_NAME.fullmatch(self.ext_field):
            raise CrmError(f"Salesforce: {self.ext_field!r} is not a field API name", permanent=True)
        if not _API_VERSION.fullmatch(self.version):
            raise CrmError(f"Salesforce: {self.version!r} is not an API version like v67.0", permanent=True)
        self._sleep = sleep
        self._zone = None

    def _call(self, method, path, **kwargs):
        """Call the instance; a 401 (INVALID_SESSION_ID: the session expired) gets a new token once and
        tries once more."""
        for attempt in (1, 2):
            session = self._session()
            url = f"{session['instance_url']}/services/data/{self.version}{path}"
            headers = {"Authorization": f"Bearer {session['access_token']}"}
            try:
                return transport.request("salesforce", method, url, headers=headers, **kwargs)
            except CrmError as exc:
                if exc.status == 401 and attempt == 1:
                    self.connection.token_encrypted = ""
                    continue
                raise _classified(exc) from None
        raise AssertionError("unreachable")

    def _json(self, method, path, **kwargs) -> dict:
        return transport.json_body(self._call(method, path, **kwargs))

    def _collection(self, method, path, records: list[dict]) -> list[dict]:
        """An sObject Collections call: one result per record, in the order sent (documented)."""
        body = {"allOrNone": False, "records": records}
        results = transport.json_body(self._call(method, path, json=body), expect=list)
        if len(results) != len(records) or not all(isinstance(r, dict) for r in results):
            raise CrmError(f"Salesforce: {len(results)} results for {len(records)} records", permanent=False)
        return results

    # --- contacts ----------------------------------------------------------------------------------

    def _record(self, item, *, marker: bool) -> dict:
        """The Contact as far as Coccinelle knows it: unknown values are left out, never null or "".
        `marker`: the record may be created, so it needs a LastName even when we know none."""
        record = {"attributes": {"type": "Contact"}, self.ext_field: str(item.customer_id)}
        values = {
            "LastName": item.last_name or (UNKNOWN_LAST_NAME if marker else ""),
            "FirstName": item.first_name,
            "Email": item.email,
            "Phone": item.phone,
            "MobilePhone": item.whatsapp_phone or item.phone,
            # Only ever set: an e-mail opt-out recorded in Salesforce is not for us to lift.
            "HasOptedOutOfEmail": True if item.opted_out else None,
        }
        for option, value in (
            ("segment_field", item.segment),
            ("language_field", item.language),
            ("tags_field", ";".join(item.tags)),
        ):
            if self.option(option, ""):
                values[self.options[option]] = value
        record.update({k: v for k, v in values.items() if v not in (None, "")})
        return record

    def push_customers(self, items):
        outcomes = []
        for start in range(0, len(items), MAX_BATCH):
            outcomes += _Push(self, items[start : start + MAX_BATCH]).run()
        return outcomes

    def _update_known(self, batch) -> tuple[dict, list]:
        """Contacts we know by record id: updated by id (which also stamps our external id, e.g. on a
        contact linked by `sync_crm --pull`). Those Salesforce says are gone are upserted instead."""
        records = [dict(self._record(i, marker=False), id=i.external_id) for i in batch]
        results = self._collection("PATCH", "/composite/sobjects", records)
        done, gone = {}, []
        for item, result in zip(batch, results, strict=True):
            if not result.get("success") and _codes(result) & _GONE_CODES:
                gone.append(item)
            else:
                done[item.customer_id] = _outcome(item.customer_id, result)
        return done, gone

    def _upsert(self, batch, existing: set) -> tuple[dict, None]:
        """Upsert by the external id. A LastName marker only for contacts that may be created; one
        refused for want of a LastName (it was not there after all) goes again with the marker."""
        path = f"/composite/sobjects/Contact/{self.ext_field}"
        records = [self._record(i, marker=i.customer_id not in existing) for i in batch]
        results = self._collection("PATCH", path, records)
        outcomes, again = {}, []
        for item, record, result in zip(batch, records, results, strict=True):
            if "LastName" not in record and _missing_last_name(result):
                again.append(item)
            else:
                outcomes[item.customer_id] = _outcome(item.customer_id, result)
        if again:
            records = [self._record(i, marker=True) for i in again]
            results = self._collection("PATCH", path, records)
            outcomes.update(
                {i.customer_id: _outcome(i.customer_id, r) for i, r in zip(again, results, strict=True)}
            )
        return outcomes, None

    def _adopt_existing_by_email(self, batch) -> tuple[dict, set]:
        """A Contact the sales team already created with the customer's e-mail gets our external id,
        so that the upsert updates it instead of creating a duplicate. Returns the failed adoptions
        (those must not be upserted: that would create the duplicate), and the customers adopted."""
        by_email = self._contacts_by_email(sorted({i.email.lower() for i in batch if i.email}))
        adopt, taken = [], set()
        for item in batch:  # one Salesforce contact is adopted once, by the first of its customers
            contact_id = by_email.get((item.email or "").lower())
            if contact_id and contact_id not in taken:
                adopt.append(item)
                taken.add(contact_id)
        if not adopt:
            return {}, set()
        records = [
            {
                "attributes": {"type": "Contact"},
                "id": by_email[i.email.lower()],
                self.ext_field: str(i.customer_id),
            }
            for i in adopt
        ]
        results = self._collection("PATCH", "/composite/sobjects", records)
        adopted, failed = set(), {}
        for item, result in zip(adopt, results, strict=True):
            if result.get("success"):
                adopted.add(item.customer_id)
            else:
                failed[item.customer_id] = _outcome(item.customer_id, result)
        return failed, adopted

    def _contacts_by_email(self, emails: list[str]) -> dict[str, str]:
        """{e-mail: Contact id} of contacts without our external id, a few SOQL queries per batch."""
        found = {}
        for chunk in _chunks([soql_literal(e) for e in emails], _QUERY_CHARS):
            # Every value is a soql_literal; the field name is the admin's configuration, not input.
            query = (
                f"SELECT Id, Email FROM Contact WHERE {self.ext_field} = null "  # noqa: S608
                f"AND Email IN ({', '.join(chunk)}) ORDER BY CreatedDate"
            )
            for r in self._json("GET", "/query", params={"q": query}).get("records") or []:
                if isinstance(r, dict) and isinstance(r.get("Email"), str) and r.get("Id"):
                    found.setdefault(r["Email"].lower(), r["Id"])  # the oldest one, if sales made two
        return found

    # --- interactions as tasks ---------------------------------------------------------------------

    def push_interactions(self, items):
        outcomes = []
        for start in range(0, len(items), MAX_BATCH):
            batch = items[start : start + MAX_BATCH]
            results = self._collection("POST", "/composite/sobjects", [self._task(i) for i in batch])
            outcomes += [_outcome(i.interaction_id, r) for i, r in zip(batch, results, strict=True)]
        return outcomes

    def _task(self, item) -> dict:
        arrow = "from" if item.direction == "inbound" else "to"
        subject = f"{item.channel.upper()} {arrow} customer: {item.body}".replace("\n", " ")
        return {
            "attributes": {"type": "Task"},
            "WhoId": item.contact_external_id,
            "Subject": subject[:255],
            # Outbound messages say how far they got; updated when a delivery report comes in.
            "Description": (item.body + (f"\n\nStatus: {item.status}" if item.status else ""))[:32000],
            # A date field: the day as the shop lived it, not UTC's (23:30 in Paris is tomorrow in UTC).
            "ActivityDate": item.occurred_at.astimezone(self._shop_zone()).date().isoformat(),
            "Status": "Completed",
            "TaskSubtype": "Task",
            "Priority": "Normal",
        }

    def _shop_zone(self) -> ZoneInfo:
        if self._zone is None:
            try:
                self._zone = ZoneInfo(self.connection.shop.time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                self._zone = ZoneInfo(settings.TIME_ZONE)
        return self._zone

    # --- connection and pull -----------------------------------------------------------------------

    def test_connection(self):
        try:
            session = self._authenticate()
        except CrmError as exc:
            return [Check("credentials", False, str(exc))]
        checks = [Check("credentials", True, f"signed in; instance {session['instance_url']}")]
        try:
            fields = self._json("GET", "/sobjects/Contact/describe").get("fields")
        except CrmError as exc:
            return [*checks, Check("api", False, str(exc))]
        fields = [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []
        field = next((f for f in fields if f.get("name") == self.ext_field), None)
        if field and field.get("externalId"):
            checks.append(Check("external id field", True, f"Contact.{self.ext_field} is an external id"))
        else:
            checks.append(
                Check("external id field", False, f"create Contact.{self.ext_field} as External ID, Unique")
            )
        return checks

    def pull_contacts(self):
        fields = "Id, FirstName, LastName, Email, Phone, MobilePhone"
        query = f"SELECT {fields} FROM Contact WHERE {self.ext_field} = null"  # noqa: S608 - no input in it
        body = self._json("GET", "/query", params={"q": query})
        while True:
            for row in body.get("records", []):
                yield PulledContact(
                    external_id=row["Id"],
                    first_name=row.get("FirstName") or "",
                    last_name="" if row.get("LastName") == UNKNOWN_LAST_NAME else row.get("LastName") or "",
                    email=row.get("Email") or "",
                    phone=row.get("MobilePhone") or row.get("Phone") or "",
                )
            if body.get("done", True) or not body.get("nextRecordsUrl"):
                return
            path = body["nextRecordsUrl"].split(f"/services/data/{self.version}", 1)[-1]
            body = self._json("GET", path)

    def external_url(self, external_id):
        instance = crypto.decrypt(self.connection.token_encrypted).get("instance_url", "")
        if not (isinstance(instance, str) and instance and external_id):
            return ""
        # The instance came from a token answer: a link only if it is https on a Salesforce host.
        url = f"{instance}/lightning/r/Contact/{quote(str(external_id), safe='')}/view"
        return transport.safe_link(url, "salesforce")


class _Push:
    """One batch of at most 200 customers: known contacts updated by id, the others adopted by e-mail
    then upserted by external id. Each step answers (outcomes, what the next step needs). A call that
    fails after earlier calls of the batch went through fails only its own customers: what Salesforce
    already wrote is reported written."""

    def __init__(self, backend: SalesforceBackend, batch):
        self.backend, self.batch, self.outcomes = backend, batch, {}

    def run(self) -> list[PushOutcome]:
        new = [i for i in self.batch if not i.external_id]
        new += self._step([i for i in self.batch if i.external_id], self.backend._update_known, [])
        adopted = self._step(new, self.backend._adopt_existing_by_email, set())
        # Adopted contacts exist with the name sales gave them: no LastName marker over it.
        self._step(
            [i for i in new if i.customer_id not in self.outcomes], self.backend._upsert, None, adopted
        )
        return [self.outcomes[i.customer_id] for i in self.batch if i.customer_id in self.outcomes]

    def _step(self, items, call, default, *args):
        if not items:
            return default
        try:
            outcomes, carry = call(items, *args)
        except CrmError as exc:
            if not self.outcomes:
                raise  # nothing written yet: the drain records the call's failure for the whole batch
            error, permanent = transport.shorten(str(exc)), exc.permanent
            self.outcomes.update(
                {
                    i.customer_id: PushOutcome(i.customer_id, False, error=error, permanent=permanent)
                    for i in items
                }
            )
            return default
        self.outcomes.update(outcomes)
        return carry


def _chunks(literals: list[str], limit: int):
    chunk, size = [], 0
    for literal in literals:
        if chunk and size + len(literal) > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(literal)
        size += len(literal) + 2
    if chunk:
        yield chunk


def _codes(result: dict) -> set[str]:
    errors = result.get("errors")
    return {e.get("statusCode") for e in errors if isinstance(e, dict)} if isinstance(errors, list) else set()


def _missing_last_name(result: dict) -> bool:
    errors = result.get("errors") if not result.get("success") else None
    return isinstance(errors, list) and any(
        isinstance(e, dict)
        and e.get("statusCode") == "REQUIRED_FIELD_MISSING"
        and "LastName" in (e.get("fields") or [])
        for e in errors
    )


def _outcome(key, result: dict) -> PushOutcome:
    """One record's result, attributed to that record alone: its own errors, retried only when every
    one of them passes with time (a locked row, a limit), failed for good otherwise."""
    if result.get("success") and result.get("id"):
        return PushOutcome(key, True, str(result["id"]))
    errors = [e for e in result.get("errors") or [] if isinstance(e, dict)]
    if not errors:  # an answer without a reason (or a success without an id): try again, a few times
        return PushOutcome(key, False, error="Salesforce: a result without an id or errors", permanent=False)
    message = "; ".join(_error_text(e) for e in errors)
    transient = all(e.get("statusCode") in _ITEM_RETRY_CODES for e in errors)
    return PushOutcome(key, False, error=transport.shorten(message), permanent=not transient)


def _error_text(error: dict) -> str:
    fields = error.get("fields")
    where = f" ({', '.join(str(f) for f in fields)})" if isinstance(fields, list) and fields else ""
    return f"{error.get('statusCode', 'ERROR')}: {error.get('message', '')}{where}"


def _classified(exc: CrmError) -> CrmError:
    """Whether a failed call is worth another try, by Salesforce's own codes (a 403 can be the
    request limit, which passes, or a missing permission, which does not)."""
    codes = (
        {e.get("errorCode") for e in exc.body if isinstance(e, dict)} if isinstance(exc.body, list) else set()
    )
    if exc.status is None:
        return exc  # network error or timeout: already transient
    transient = bool(codes & _RETRY_CODES) or exc.status in _RETRY_STATUSES
    message = f"Salesforce API limit reached: {exc}" if "REQUEST_LIMIT_EXCEEDED" in codes else str(exc)
    return CrmError(message, permanent=not transient, status=exc.status, body=exc.body, headers=exc.headers)
