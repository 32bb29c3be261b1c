"""HubSpot (CRM v3): contacts upserted in batches on a unique identity, interactions as notes.

Options (CrmConnection.options): `api_base` (default https://api.hubapi.com; only https on *.hubapi.com,
or a host in CRM_ALLOWED_HOSTS), `auth` ("private_app", default, or "oauth"), `rate_limit` requests per
`rate_window_seconds` (default 100 per 10 s, the free and starter tier), `lead_status_by_segment` and
`lifecycle_by_segment` (segment -> HubSpot value; a segment missing from the map leaves the property
alone), `language_property` (default `hs_language`, "" to skip), `tags_property` (a custom multi-line
text property for tags, "" to skip), `id_property` (default `coccinelle_id`: a unique contact property
holding the Coccinelle customer id, created by "test connection" or the first sync; "" to do without),
`on_erase` ("delete", default, or "anonymise": what a GDPR erasure does to the contact; hubspot_erase.py).
Filled in by Coccinelle: `portal_id` and `ui_domain` (links to contacts), `id_property_ready` (the
unique property exists: true, or false when the app may not create it).
Secrets: `token` (private app; HUBSPOT_ACCESS_TOKEN is used when empty, and only towards HubSpot's own
hosts), or `client_id`, `client_secret`, `refresh_token` for OAuth (see hubspot_oauth.py).

Never blank: a value Coccinelle does not know is left out, never sent as "" (which HubSpot reads as
"clear this property"), so what sales typed in HubSpot stays.
"""

import logging
import re
import time
from dataclasses import replace
from urllib.parse import quote

from django.conf import settings

from crm_backends import hubspot_oauth, transport
from crm_backends import options as opt
from crm_backends.base import Check, CrmBackend, CrmError, PulledContact, PushOutcome
from crm_backends.hubspot_erase import EraseMergeMixin
from crm_backends.hubspot_notes import NotesMixin
from crm_backends.hubspot_results import (
    Sent,
    error_text,
    match,
    outcome,
    read_back_claims,
    read_back_requests,
    transient_status,
)
from crm_backends.ratelimit import credential_key, limiter_for

logger = logging.getLogger(__name__)

DEFAULT_API = "https://api.hubapi.com"
DEFAULT_ID_PROPERTY = "coccinelle_id"
MAX_RETRIES = 4
MAX_INLINE_WAIT = 60.0  # longer than this, the outbox's backoff waits instead of the worker
# Waited for and tried again right here: rate limit, locked (>= 2 s), migrating (Retry-After). Other
# transient answers (5xx) go back to the outbox's backoff; see hubspot_results.TRANSIENT_STATUSES.
WAIT_AND_RETRY = {423, 429, 477}
DEFAULT_LEAD_STATUS = {"prospect": "NEW", "active": "CONNECTED", "vip": "CONNECTED"}
# Lifecycle stages only move forward in most portals, so "inactive" does not touch it.
DEFAULT_LIFECYCLE = {"prospect": "lead", "active": "customer", "vip": "customer"}
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
ID_PROPERTY_DEFINITION = {
    "label": "Coccinelle customer id",
    "description": "Set by Coccinelle: the customer this contact is. Do not edit.",
    "type": "string",
    "fieldType": "text",
    "groupName": "contactinformation",
    "hasUniqueValue": True,
}


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class HubSpotBackend(NotesMixin, EraseMergeMixin, CrmBackend):
    name = "hubspot"
    label = "HubSpot"
    customer_batch_size = 100
    interaction_batch_size = 100
    options_schema = {
        "api_base": opt.vendor_url("hubspot"),
        "auth": opt.choice("private_app", "oauth"),
        "rate_limit": opt.whole_number(1, 1000),
        "rate_window_seconds": opt.seconds(1, 86_400),
        "lead_status_by_segment": opt.text_map,
        "lifecycle_by_segment": opt.text_map,
        "language_property": opt.api_name,
        "tags_property": opt.api_name,
        "id_property": opt.api_name,
        "id_property_ready": opt.choice(True, False),
        "portal_id": opt.whole_number(1, 10**15),
        "ui_domain": opt.pattern(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.hubspot\.com", "app-eu1.hubspot.com"),
        "on_erase": opt.choice("delete", "anonymise"),
    }

    def __init__(self, connection, *, sleep=time.sleep):
        super().__init__(connection)
        self.api = (self.option("api_base", "") or DEFAULT_API).rstrip("/")
        self._sleep = sleep
        self.limiter = limiter_for(
            self._limit_key(),
            self.option("rate_limit", 100),
            float(self.option("rate_window_seconds", 10)),
        )
        self.requests_sent = 0
        # Someone is waiting on the answer (Test connection): never sleep on a rate limit, say so.
        self.interactive = False
        self._prepared = False

    # --- transport ---------------------------------------------------------------------------------

    def _call(self, method, path, **kwargs):
        """One API call under the rate limit; 429, 423 and 477 wait as HubSpot says and try again, a
        few times; other errors are classed permanent or transient as HubSpot documents them."""
        for attempt in range(MAX_RETRIES + 1):
            self._acquire()
            self.requests_sent += 1
            try:
                response = transport.request(
                    "hubspot", method, self.api + path, headers=self._auth_header(), **kwargs
                )
            except CrmError as exc:
                exc.permanent = _permanent(exc)
                wait = _wait_before_retry(exc, attempt)
                if exc.status not in WAIT_AND_RETRY or attempt == MAX_RETRIES or self.interactive:
                    raise
                if wait > MAX_INLINE_WAIT or _daily_limit(exc):
                    raise  # the outbox's backoff waits instead of this worker
                logger.info("HubSpot answered %s; waiting %.1fs", exc.status, wait)
                if exc.status == 429:
                    self.limiter.pause(wait)  # nothing else goes out on this connection meanwhile
                else:
                    self._sleep(wait)
                continue
            self._respect_headers(response.headers)
            return response
        raise AssertionError("unreachable")

    def _json(self, method, path, **kwargs) -> dict:
        return transport.json_body(self._call(method, path, **kwargs))

    def _acquire(self):
        if not self.interactive:
            self.limiter.acquire()
        elif wait := self.limiter.try_acquire():
            message = f"HubSpot: this connection's rate limit is reached; try again in {wait:.0f} s"
            raise CrmError(message, permanent=False)

    def _respect_headers(self, headers):
        # HubSpot counts every app on the account: when it says none are left, wait for the window.
        if headers.get("X-HubSpot-RateLimit-Remaining") == "0":
            self.limiter.pause(_header_seconds(headers, "X-HubSpot-RateLimit-Interval-Milliseconds", 10.0))

    def _limit_key(self):
        """HubSpot counts requests per account (portal): connections reaching one portal share one
        limit, in every worker (crm_backends.ratelimit). Before the portal is known, per private-app
        token (shops sharing the install's token share its limit); else per connection."""
        portal = self.option("portal_id", None)
        if portal:
            return credential_key("hubspot", "portal", portal)
        if not self._oauth:
            token = self.connection.secrets.get("token") or settings.HUBSPOT_ACCESS_TOKEN
            if token:
                return credential_key("hubspot", "token", token)
        return ("hubspot", self.connection.pk)

    def _auth_header(self):
        return {"Authorization": f"Bearer {self._token()}"}

    def _token(self) -> str:
        if self._oauth:
            return hubspot_oauth.access_token(self.connection, self.api)
        token = self.connection.secrets.get("token") or self._install_token()
        if not token:
            raise CrmError("HubSpot: no private-app token configured", permanent=True)
        return token

    def _install_token(self) -> str:
        """HUBSPOT_ACCESS_TOKEN belongs to the whole install: it goes to HubSpot itself or nowhere,
        never to a host a connection's options chose (even one CRM_ALLOWED_HOSTS lets through)."""
        if settings.HUBSPOT_ACCESS_TOKEN and not transport.is_vendor_url(self.api, "hubspot"):
            raise CrmError(
                "HubSpot: HUBSPOT_ACCESS_TOKEN is only sent to https://*.hubapi.com; give this "
                "connection its own token to use another api_base",
                permanent=True,
            )
        if settings.HUBSPOT_ACCESS_TOKEN and not self._owns_install_token():
            # Two shops on one portal would share contacts (upserts by e-mail) and erase each other's.
            raise CrmError(
                "HubSpot: HUBSPOT_ACCESS_TOKEN serves one shop only and another shop's connection uses "
                "it; give this connection its own private-app token",
                permanent=True,
            )
        return settings.HUBSPOT_ACCESS_TOKEN

    def _owns_install_token(self) -> bool:
        """The install's token goes to the oldest enabled HubSpot connection without a token of its own."""
        from crm_backends.models import CrmConnection

        others = CrmConnection.objects.filter(backend="hubspot", enabled=True, pk__lt=self.connection.pk)
        return not any(
            not other.secrets.get("token") and (other.options or {}).get("auth", "private_app") != "oauth"
            for other in others.only("pk", "secrets_encrypted", "options")
        )

    @property
    def _oauth(self):
        return self.option("auth", "private_app") == "oauth"

    def revoke(self) -> None:
        if self._oauth:
            hubspot_oauth.revoke(self.connection, self.api)

    # --- batches: send, match, fall back -------------------------------------------------------------

    def _send(self, path, sent: list[Sent]) -> dict:
        """POST a batch; {key: the HubSpot id (str) of each written input, or the list of errors that
        are its own}. A batch HubSpot refused whole (one bad or conflicting input) is split in halves
        until the culprit stands alone, so the others still go out (about 2·log2(n) more requests)."""
        try:
            body = self._json("POST", path, json={"inputs": [s.input for s in sent]})
        except CrmError as exc:
            if not exc.permanent or exc.status not in (400, 409):
                raise
            if len(sent) > 1:
                half = len(sent) // 2
                return {**self._send(path, sent[:half]), **self._send(path, sent[half:])}
            if _lifecycle_refused([exc.body]) and _drop_lifecycle(sent):
                return self._send(path, sent)  # only this contact's stage stays as HubSpot has it
            error = exc.body if isinstance(exc.body, dict) else {}
            return {sent[0].key: [{**error, "message": str(exc), "status_code": exc.status}]}
        found = match(sent, body)
        answers = {**found.errors, **found.written}
        retry = [s for s in sent if _lifecycle_refused(found.errors.get(s.key, [])) and _drop_lifecycle([s])]
        if retry:
            answers.update(self._send(path, retry))
        unanswered = [s for s in sent if s.key not in answers]
        if unanswered and not found.unexplained:
            answers.update(self._read_back(unanswered))
        for item in sent:
            if item.key not in answers:
                unclaimed = [{"message": m} for m in found.unexplained]
                answers[item.key] = unclaimed or [{"message": "HubSpot did not return this record"}]
        return answers

    def _read_back(self, sent: list[Sent]) -> dict:
        """Records HubSpot wrote without a result we could recognise (its answers need not echo the
        properties we match on, and a merged-away id comes back as the record it went into): read
        back by the same identity, so that a record written is never marked failed."""
        found = {}
        for group, body in read_back_requests(sent):
            answer = self._json("POST", "/crm/v3/objects/contacts/batch/read", json=body)
            found.update(read_back_claims(group, answer))
        return found

    # --- contacts ----------------------------------------------------------------------------------

    def properties(self, item) -> dict:
        """What Coccinelle knows of the customer; unknown or empty values are left out, never ""."""
        props = {
            "firstname": item.first_name,
            "lastname": item.last_name,
            "email": item.email,
            "phone": item.phone,
            "mobilephone": item.phone,
            "hs_whatsapp_phone_number": item.whatsapp_phone,
            "hs_lead_status": self.option("lead_status_by_segment", DEFAULT_LEAD_STATUS).get(item.segment),
            "lifecyclestage": self.option("lifecycle_by_segment", DEFAULT_LIFECYCLE).get(item.segment),
        }
        if language := self.option("language_property", "hs_language"):
            props[language] = item.language
        if tags := self.option("tags_property", ""):
            props[tags] = ";".join(item.tags)
        if self.id_property:
            props[self.id_property] = str(item.customer_id)
        return {name: str(value) for name, value in props.items() if value not in (None, "")}

    @property
    def id_property(self) -> str:
        """The unique property upserts can use, once it exists in the portal."""
        if self.option("id_property_ready", False) is not True:
            return ""
        return self.option("id_property", DEFAULT_ID_PROPERTY)

    def push_customers(self, items):
        """Known HubSpot id: update by id (an e-mail change must not create a second contact); else
        upsert by e-mail; else upsert by the unique `coccinelle_id`; else (no such property) create.
        Upserts are idempotent: a retry after a lost answer finds the contact instead of doubling it."""
        self._prepare()
        outcomes, rest = {}, [i for i in items if not i.external_id]
        for batch in chunks([i for i in items if i.external_id], self.customer_batch_size):
            rest += self._update(batch, outcomes)  # deleted in HubSpot since: upsert or create again
        by_key = [i for i in rest if not i.email]
        for batch in chunks([i for i in rest if i.email], self.customer_batch_size):
            by_key += self._upsert(batch, "email", outcomes)
        if self.id_property:
            for batch in chunks(by_key, self.customer_batch_size):
                self._upsert(batch, self.id_property, outcomes)
        else:
            for batch in chunks(by_key, 1):  # one per request: the answer is surely that contact's
                self._create(batch, outcomes)
        return [outcomes.get(i.customer_id) or _unanswered(i.customer_id) for i in items]

    def _sent(self, item, identity, **extra) -> Sent:
        body = {"properties": self.properties(item), "objectWriteTraceId": str(item.customer_id), **extra}
        return Sent(item.customer_id, body, identity)

    def _update(self, batch, outcomes) -> list:
        sent = [self._sent(i, ("hs_object_id", i.external_id), id=i.external_id) for i in batch]
        answers = self._send("/crm/v3/objects/contacts/batch/update", sent)
        gone = []
        for item in batch:
            answer = answers[item.customer_id]
            if isinstance(answer, list) and any(e.get("category") == "OBJECT_NOT_FOUND" for e in answer):
                gone.append(replace(item, external_id=""))
            else:
                outcomes[item.customer_id] = outcome(item.customer_id, answer)
        return gone

    def _upsert(self, batch, id_property, outcomes) -> list:
        """Upsert on a unique property; returns the inputs to try again on `coccinelle_id` (their
        e-mail upsert clashed with the contact that already holds their Coccinelle id)."""
        value = (lambda i: i.email) if id_property == "email" else (lambda i: str(i.customer_id))
        sent = [self._sent(i, (id_property, value(i)), idProperty=id_property, id=value(i)) for i in batch]
        answers = self._send("/crm/v3/objects/contacts/batch/upsert", sent)
        again = []
        for item in batch:
            answer = answers[item.customer_id]
            if id_property == "email" and self.id_property and _clashes_on(answer, self.id_property):
                again.append(item)
            else:
                outcomes[item.customer_id] = outcome(item.customer_id, answer)
        return again

    def _create(self, batch, outcomes):
        """Without a unique property: create (one contact per request, so the answer is surely its),
        and a 409 "Existing ID" becomes an update of that contact. An unanswered create is not retried
        (a retry could make a second contact): it fails and says why."""
        sent = [Sent(i.customer_id, {"properties": self.properties(i)}, ("", "")) for i in batch]
        for s in sent:
            s.input["objectWriteTraceId"] = str(s.key)
        answers = self._send("/crm/v3/objects/contacts/batch/create", sent)
        existing = []
        for item in batch:
            answer = answers[item.customer_id]
            found = _EXISTING_ID.search(error_text(answer)) if isinstance(answer, list) else None
            if found:
                existing.append(replace(item, external_id=found.group(1)))
            elif isinstance(answer, list) and answer and "did not return" in error_text(answer):
                message = "HubSpot did not say which contact it created; not retried, to avoid a duplicate"
                outcomes[item.customer_id] = PushOutcome(item.customer_id, False, error=message)
            else:
                outcomes[item.customer_id] = outcome(item.customer_id, answer)
        if existing:
            for item in self._update(existing, outcomes):  # gone again meanwhile: the next drain
                outcomes[item.customer_id] = _unanswered(item.customer_id)

    # --- setup: the unique property and the portal's address -------------------------------------

    def _prepare(self):
        """Once per backend: create the unique property and learn the portal's address if nobody has
        yet. Best effort: without them the push still goes out (by e-mail, without links)."""
        if self._prepared:
            return
        self._prepared = True
        if self.option("id_property", DEFAULT_ID_PROPERTY) and self.option("id_property_ready", None) is None:
            self._ensure_id_property()
        if not (self.option("portal_id", None) and self.option("ui_domain", None)):
            try:
                self._learn_account()
            except CrmError as exc:
                logger.info("HubSpot account details unknown (connection %s): %s", self.connection.pk, exc)

    def _ensure_id_property(self) -> Check:
        name = self.option("id_property", DEFAULT_ID_PROPERTY)
        try:
            self._json("POST", "/crm/v3/properties/contacts", json={"name": name, **ID_PROPERTY_DEFINITION})
            ready, detail = True, f"created the unique contact property {name}"
        except CrmError as exc:
            if exc.status == 409:
                ready, detail = self._check_existing_property(name)
            elif exc.status == 403:
                ready = False
                detail = (
                    f"cannot create the unique property {name} (grant crm.schemas.contacts.write): "
                    "contacts without e-mail are created, and a retry after a lost answer may double one"
                )
            else:
                return Check("unique id", False, f"{name}: {exc}")  # try again next time
        self._save_options(id_property_ready=ready)
        return Check("unique id", ready, detail)

    def _check_existing_property(self, name) -> tuple[bool, str]:
        definition = self._json("GET", f"/crm/v3/properties/contacts/{quote(name, safe='')}")
        if definition.get("hasUniqueValue") is True:
            return True, f"the unique contact property {name} exists"
        return False, f"the contact property {name} exists but is not unique: rename id_property"

    def _learn_account(self) -> Check:
        details = self._json("GET", "/account-info/v3/details")
        portal, domain = details.get("portalId"), details.get("uiDomain")
        if opt.whole_number(1, 10**15)(portal):
            return Check("account", False, "HubSpot gave no usable portal id: no links to contacts")
        changes = {"portal_id": portal}
        valid = isinstance(domain, str) and not self.options_schema["ui_domain"](domain.lower())
        changes["ui_domain"] = domain.lower() if valid else self.ui_domain
        self._save_options(**changes)
        return Check("account", True, f"portal {portal} on {self.ui_domain}")

    def _save_options(self, **changes):
        self.options = {**self.options, **changes}
        self.connection.options = self.options
        self.connection.save(update_fields=["options"])

    # --- connection, pull, links ---------------------------------------------------------------------

    def test_connection(self):
        self.interactive = True
        try:
            self._token()
            detail = "token accepted" if self._oauth else "private-app token set"
            checks = [Check("credentials", True, detail)]
        except CrmError as exc:
            return [Check("credentials", False, str(exc))]
        try:
            self._json("GET", "/crm/v3/objects/contacts", params={"limit": 1})
            checks.append(Check("contacts", True, "contacts can be read"))
        except CrmError as exc:
            return [*checks, Check("contacts", False, str(exc))]
        if self.option("id_property", DEFAULT_ID_PROPERTY):
            self.options.pop("id_property_ready", None)  # ask again: the app's scopes may have changed
            checks.append(self._safely("unique id", self._ensure_id_property))
        return [*checks, self._safely("account", self._learn_account)]

    @staticmethod
    def _safely(name, check) -> Check:
        try:
            return check()
        except CrmError as exc:
            return Check(name, False, str(exc))

    def pull_contacts(self):
        after = None
        while True:
            params = {"limit": 100, "properties": "firstname,lastname,email,phone,mobilephone"}
            if after:
                params["after"] = after
            body = self._json("GET", "/crm/v3/objects/contacts", params=params)
            for row in body.get("results", []):
                props = row.get("properties", {})
                yield PulledContact(
                    external_id=_id_of(row),
                    first_name=props.get("firstname") or "",
                    last_name=props.get("lastname") or "",
                    email=props.get("email") or "",
                    phone=props.get("mobilephone") or props.get("phone") or "",
                )
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                return

    @property
    def ui_domain(self) -> str:
        """Where the portal's web app lives (account info's `uiDomain`); before it is known, guessed
        from the API host (api-eu1 -> app-eu1)."""
        known = self.option("ui_domain", "")
        if known:
            return known
        region = re.match(r"https://api-([a-z0-9]+)\.hubapi\.com$", self.api)
        return f"app-{region.group(1)}.hubspot.com" if region else "app.hubspot.com"

    def external_url(self, external_id):
        portal = self.option("portal_id", None)
        if not (portal and external_id):
            return ""
        return f"https://{self.ui_domain}/contacts/{portal}/record/0-1/{quote(str(external_id), safe='')}"


def _unanswered(key) -> PushOutcome:
    return PushOutcome(key, False, error="HubSpot did not return this record", permanent=False)


def _clashes_on(answer, property_name) -> bool:
    return isinstance(answer, list) and any(
        e.get("category") == "CONFLICT" and property_name in str(e.get("message")) for e in answer
    )


def _lifecycle_refused(errors) -> bool:
    """Portals refuse to move a lifecycle stage backwards: then HubSpot keeps the stage it has. A stage
    the portal does not have at all ("… was not one of the allowed options", HubSpot's INVALID_OPTION
    wording) is the owner's mapping to fix: it fails, saying so, instead of being dropped quietly."""
    return any(
        isinstance(e, dict)
        and "lifecyclestage" in (message := str(e.get("message", "")))
        and "not one of the allowed options" not in message
        for e in errors
    )


def _drop_lifecycle(sent) -> bool:
    dropped = [s for s in sent if s.input["properties"].pop("lifecyclestage", None) is not None]
    return bool(dropped)


def _permanent(exc: CrmError) -> bool:
    if exc.status is None:
        return exc.permanent  # network error or timeout: as the transport said
    return not transient_status(exc.status)


def _daily_limit(exc: CrmError) -> bool:
    """The day's quota is spent: no point waiting ten seconds and asking again."""
    return exc.status == 429 and isinstance(exc.body, dict) and exc.body.get("policyName") == "DAILY"


def _wait_before_retry(exc: CrmError, attempt: int) -> float:
    interval = _header_seconds(exc.headers, "X-HubSpot-RateLimit-Interval-Milliseconds", 10.0)
    said = _retry_after(exc.headers)
    if exc.status == 423:
        return max(2.0, said)  # HubSpot: wait at least 2 seconds on a locked record
    if exc.status == 477:
        return said or 10.0
    return said or interval * (attempt + 1) / 2


def _id_of(created) -> str:
    """The id HubSpot gave a record; an answer without one is a failure, not a KeyError."""
    if not isinstance(created, dict) or not str(created.get("id") or "").strip():
        raise CrmError("HubSpot: the answer has no record id", permanent=True)
    return str(created["id"])


def _retry_after(headers) -> float:
    try:
        return min(max(float(headers.get("Retry-After") or 0), 0), 600)
    except (TypeError, ValueError):
        return 0.0


def _header_seconds(headers, name, default):
    try:
        return int(headers.get(name)) / 1000
    except (TypeError, ValueError):
        return default
