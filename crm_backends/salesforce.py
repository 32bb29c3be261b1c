"""Salesforce (REST): Contacts upserted on an external-id field, interactions as completed Tasks.

Options (CrmConnection.options): `login_url` (default SALESFORCE_LOGIN_URL, https://login.salesforce.com;
your My Domain for client credentials; only https on *.salesforce.com or *.force.com, or a host in
CRM_ALLOWED_HOSTS, and the same goes for the `instance_url` Salesforce answers), `auth` ("refresh_token",
default, "client_credentials" or "jwt"), `api_version` (default SALESFORCE_API_VERSION, v67.0),
`external_id_field` (the Contact field, marked External ID and Unique, that holds the Coccinelle customer
id; default `Coccinelle_Id__c`), `segment_field`, `language_field`, `tags_field` (Contact fields to fill;
"" or absent to skip).
Secrets: `client_id`, `client_secret`, `refresh_token` (refresh flow), or `client_id`, `username`,
`private_key` (PEM, JWT bearer flow). SALESFORCE_CLIENT_ID / _SECRET / _REFRESH_TOKEN fill the gaps,
only for a connection that signs in at Salesforce itself or at the install's SALESFORCE_LOGIN_URL.
"""

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import jwt
from django.conf import settings

from crm_backends import crypto, transport
from crm_backends import options as opt
from crm_backends.base import Check, CrmBackend, CrmError, PulledContact, PushOutcome

logger = logging.getLogger(__name__)

MAX_BATCH = 200  # composite sobject collections take up to 200 records
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


def soql_literal(value: str) -> str:
    """A quoted SOQL string literal: every quote, backslash and control character escaped, so input
    can never end the literal and change the query."""
    return "'" + "".join(_SOQL_ESCAPES.get(ch, ch) for ch in str(value)) + "'"


class SalesforceBackend(CrmBackend):
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

    # --- auth --------------------------------------------------------------------------------------

    def _secrets(self) -> dict:
        stored = self.connection.secrets
        if not self._may_use_install_credentials():
            return stored
        defaults = {
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "client_secret": settings.SALESFORCE_CLIENT_SECRET,
            "refresh_token": settings.SALESFORCE_REFRESH_TOKEN,
        }
        return {**{k: v for k, v in defaults.items() if v}, **stored}

    def _may_use_install_credentials(self) -> bool:
        """SALESFORCE_* belong to the whole install: they go to Salesforce itself, or to the login
        URL ops configured, never to a host a connection's options chose."""
        install_url = settings.SALESFORCE_LOGIN_URL.rstrip("/")
        return transport.is_vendor_url(self.login_url, "salesforce") or self.login_url == install_url

    def _session(self) -> dict:
        cached = crypto.decrypt(self.connection.token_encrypted)
        return cached if cached.get("access_token") else self._authenticate()

    def _authenticate(self) -> dict:
        """Get an access token; Salesforce says which instance to call (`instance_url`), and that
        instance must be a Salesforce host too: the access token is sent there."""
        url = self.login_url + "/services/oauth2/token"
        body = transport.json_body(transport.request("salesforce", "POST", url, data=self._grant()))
        token, instance = body.get("access_token"), body.get("instance_url")
        if not (isinstance(token, str) and token and isinstance(instance, str) and instance):
            raise CrmError("Salesforce: the token answer has no access_token or instance_url", permanent=True)
        transport.check_url(instance, "salesforce")
        session = {"access_token": token, "instance_url": instance.rstrip("/")}
        self.connection.token_encrypted = crypto.encrypt(session)
        self.connection.save(update_fields=["token_encrypted"])
        return session

    def _grant(self) -> dict:
        secrets, flow = self._secrets(), self.option("auth", "refresh_token")
        needed = {
            "refresh_token": ("client_id", "client_secret", "refresh_token"),
            "client_credentials": ("client_id", "client_secret"),
            "jwt": ("client_id", "username", "private_key"),
        }.get(flow)
        if needed is None:
            raise CrmError(f"Salesforce: unknown auth flow {flow!r}", permanent=True)
        missing = [k for k in needed if not secrets.get(k)]
        if missing:
            why = "" if self._may_use_install_credentials() else " (SALESFORCE_* serve Salesforce hosts only)"
            raise CrmError(f"Salesforce {flow}: missing {', '.join(missing)}{why}", permanent=True)
        if flow == "jwt":
            return {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": self._assertion(secrets),
            }
        grant = {
            "grant_type": flow,
            "client_id": secrets["client_id"],
            "client_secret": secrets["client_secret"],
        }
        if flow == "refresh_token":
            grant["refresh_token"] = secrets["refresh_token"]
        return grant

    def _assertion(self, secrets) -> str:
        claims = {
            "iss": secrets["client_id"],
            "sub": secrets["username"],
            "aud": self.login_url,
            "exp": datetime.now(UTC) + timedelta(minutes=3),
        }
        return jwt.encode(claims, secrets["private_key"], algorithm="RS256")

    def _call(self, method, path, **kwargs):
        """Call the instance; a 401 refreshes the session once and tries once more."""
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

    # --- contacts ----------------------------------------------------------------------------------

    def _record(self, item) -> dict:
        record = {
            "attributes": {"type": "Contact"},
            self.ext_field: str(item.customer_id),
            # Salesforce requires a last name; a customer known by first name or number only gets a marker.
            "LastName": item.last_name or "(unknown)",
            "FirstName": item.first_name,
            "Email": item.email,
            "Phone": item.phone,
            "MobilePhone": item.whatsapp_phone or item.phone,
            "HasOptedOutOfEmail": item.opted_out,
        }
        for option, value in (
            ("segment_field", item.segment),
            ("language_field", item.language),
            ("tags_field", ";".join(item.tags)),
        ):
            if self.option(option, ""):
                record[self.options[option]] = value
        return record

    def push_customers(self, items):
        outcomes = []
        for start in range(0, len(items), MAX_BATCH):
            batch = items[start : start + MAX_BATCH]
            self._adopt_existing_by_email(batch)
            body = {"allOrNone": False, "records": [self._record(i) for i in batch]}
            results = self._results("PATCH", f"/composite/sobjects/Contact/{self.ext_field}", body, batch)
            outcomes += [
                _outcome(item.customer_id, result) for item, result in zip(batch, results, strict=True)
            ]
        return outcomes

    def _adopt_existing_by_email(self, batch):
        """A Contact the sales team already created with the customer's e-mail gets our external id,
        so that the upsert updates it instead of creating a duplicate."""
        emails = sorted({i.email for i in batch if i.email and not i.external_id})
        if not emails:
            return
        where = ", ".join(soql_literal(e) for e in emails)
        # Every value is a soql_literal; the field name is the admin's configuration, not customer input.
        query = f"SELECT Id, Email FROM Contact WHERE {self.ext_field} = null AND Email IN ({where})"  # noqa: S608
        found = self._json("GET", "/query", params={"q": query}).get("records") or []
        by_email = {
            r["Email"].lower(): r["Id"]
            for r in found
            if isinstance(r, dict) and r.get("Email") and r.get("Id")
        }
        records = [
            {
                "attributes": {"type": "Contact"},
                "id": by_email[i.email.lower()],
                self.ext_field: str(i.customer_id),
            }
            for i in batch
            if i.email and not i.external_id and i.email.lower() in by_email
        ]
        if records:
            self._call("PATCH", "/composite/sobjects", json={"allOrNone": False, "records": records})

    # --- interactions as tasks ---------------------------------------------------------------------

    def push_interactions(self, items):
        outcomes = []
        for start in range(0, len(items), MAX_BATCH):
            batch = items[start : start + MAX_BATCH]
            body = {"allOrNone": False, "records": [self._task(i) for i in batch]}
            results = self._results("POST", "/composite/sobjects", body, batch)
            outcomes += [
                _outcome(item.interaction_id, result) for item, result in zip(batch, results, strict=True)
            ]
        return outcomes

    def _json(self, method, path, **kwargs) -> dict:
        return transport.json_body(self._call(method, path, **kwargs))

    def _results(self, method, path, body, batch) -> list[dict]:
        """A composite call's per-record results, one per record sent and in the same order."""
        results = transport.json_body(self._call(method, path, json=body), expect=list)
        if len(results) != len(batch) or not all(isinstance(r, dict) for r in results):
            raise CrmError(f"Salesforce: {len(results)} results for {len(batch)} records", permanent=False)
        return results

    def _task(self, item) -> dict:
        arrow = "from" if item.direction == "inbound" else "to"
        subject = f"{item.channel.upper()} {arrow} customer: {item.body}".replace("\n", " ")
        return {
            "attributes": {"type": "Task"},
            "WhoId": item.contact_external_id,
            "Subject": subject[:255],
            "Description": item.body[:32000],
            "ActivityDate": item.occurred_at.date().isoformat(),
            "Status": "Completed",
            "TaskSubtype": "Task",
            "Priority": "Normal",
        }

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
                    last_name="" if row.get("LastName") == "(unknown)" else row.get("LastName") or "",
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


def _outcome(key, result: dict) -> PushOutcome:
    if result.get("success"):
        return PushOutcome(key, True, result.get("id", ""))
    errors = result.get("errors") or [{}]
    message = "; ".join(
        f"{e.get('statusCode', '')}: {e.get('message', '')}" for e in errors if isinstance(e, dict)
    )
    return PushOutcome(key, False, error=transport.shorten(message), permanent=True)


def _classified(exc: CrmError) -> CrmError:
    """REQUEST_LIMIT_EXCEEDED comes as a 403 but passes with time: back off instead of failing."""
    codes = (
        {e.get("errorCode") for e in exc.body if isinstance(e, dict)} if isinstance(exc.body, list) else set()
    )
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        return CrmError(
            f"Salesforce API limit reached: {exc}", permanent=False, status=exc.status, body=exc.body
        )
    return exc
