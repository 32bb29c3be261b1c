"""HubSpot (CRM v3): contacts upserted in batches, interactions as notes on the contact.

Options (CrmConnection.options): `api_base` (default https://api.hubapi.com; only https on *.hubapi.com,
or a host in CRM_ALLOWED_HOSTS), `auth` ("private_app", default, or "oauth"), `rate_limit` requests per
`rate_window_seconds` (default 100 per 10 s, the free and starter tier), `lead_status_by_segment` and
`lifecycle_by_segment` (segment -> HubSpot value; a segment missing from the map leaves the property
alone), `language_property` (default `hs_language`, "" to skip), `tags_property` (a custom multi-line
text property for tags, "" to skip), `portal_id` (filled by "test connection", used to link to contacts).
Secrets: `token` (private app; HUBSPOT_ACCESS_TOKEN is used when empty, and only towards HubSpot's own
hosts), or `client_id`, `client_secret`, `refresh_token` for OAuth.
"""

import html
import logging
import re
import time
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone

from crm_backends import crypto, transport
from crm_backends import options as opt
from crm_backends.base import (
    Check,
    CrmBackend,
    CrmError,
    CustomerPayload,
    InteractionPayload,
    PulledContact,
    PushOutcome,
)
from crm_backends.ratelimit import limiter_for

logger = logging.getLogger(__name__)

DEFAULT_API = "https://api.hubapi.com"
NOTE_TO_CONTACT = 202  # HubSpot-defined association type: note -> contact
MAX_429_RETRIES = 4
DEFAULT_LEAD_STATUS = {"prospect": "NEW", "active": "CONNECTED", "vip": "CONNECTED"}
# Lifecycle stages only move forward in most portals, so "inactive" does not touch it.
DEFAULT_LIFECYCLE = {"prospect": "lead", "active": "customer", "vip": "customer"}
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class HubSpotBackend(CrmBackend):
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
        "portal_id": opt.whole_number(1, 10**15),
    }

    def __init__(self, connection, *, sleep=time.sleep):
        super().__init__(connection)
        self.api = (self.option("api_base", "") or DEFAULT_API).rstrip("/")
        self._sleep = sleep
        self.limiter = limiter_for(
            ("hubspot", connection.pk),
            self.option("rate_limit", 100),
            float(self.option("rate_window_seconds", 10)),
        )
        self.requests_sent = 0
        # Someone is waiting on the answer (Test connection): never sleep on a rate limit, say so.
        self.interactive = False

    # --- transport ---------------------------------------------------------------------------------

    def _call(self, method, path, **kwargs):
        """One API call under the rate limit; a 429 waits and tries again, a few times."""
        for attempt in range(MAX_429_RETRIES + 1):
            self._acquire()
            self.requests_sent += 1
            try:
                response = transport.request(
                    "hubspot", method, self.api + path, headers=self._auth_header(), **kwargs
                )
            except CrmError as exc:
                if exc.status != 429 or attempt == MAX_429_RETRIES or self.interactive:
                    raise
                self._back_off(exc.headers, attempt)
                continue
            self._respect_headers(response.headers)
            return response
        raise AssertionError("unreachable")

    def _acquire(self):
        if not self.interactive:
            self.limiter.acquire()
        elif wait := self.limiter.try_acquire():
            message = f"HubSpot: this connection's rate limit is reached; try again in {wait:.0f} s"
            raise CrmError(message, permanent=False)

    def _back_off(self, headers, attempt):
        interval = _header_seconds(headers, "X-HubSpot-RateLimit-Interval-Milliseconds", 10.0)
        wait = _retry_after(headers) or interval * (attempt + 1) / 2
        logger.info("HubSpot rate limit hit; waiting %.1fs", wait)
        self.limiter.pause(wait)

    def _respect_headers(self, headers):
        # HubSpot counts every app on the account: when it says none are left, wait for the window.
        if headers.get("X-HubSpot-RateLimit-Remaining") == "0":
            self.limiter.pause(_header_seconds(headers, "X-HubSpot-RateLimit-Interval-Milliseconds", 10.0))

    def _auth_header(self):
        return {"Authorization": f"Bearer {self._token()}"}

    def _token(self) -> str:
        secrets = self.connection.secrets
        if not self._oauth:
            token = secrets.get("token") or self._install_token()
            if not token:
                raise CrmError("HubSpot: no private-app token configured", permanent=True)
            return token
        cached = crypto.decrypt(self.connection.token_encrypted).get("access_token")
        expires = self.connection.token_expires_at
        # Refresh ahead of expiry (HubSpot tokens live 30 minutes), not after a 401.
        if cached and expires and expires - timezone.now() > timedelta(minutes=5):
            return cached
        return self._refresh(secrets)

    def _install_token(self) -> str:
        """HUBSPOT_ACCESS_TOKEN belongs to the whole install: it goes to HubSpot itself or nowhere,
        never to a host a connection's options chose (even one CRM_ALLOWED_HOSTS lets through)."""
        if settings.HUBSPOT_ACCESS_TOKEN and not transport.is_vendor_url(self.api, "hubspot"):
            raise CrmError(
                "HubSpot: HUBSPOT_ACCESS_TOKEN is only sent to https://*.hubapi.com; give this "
                "connection its own token to use another api_base",
                permanent=True,
            )
        return settings.HUBSPOT_ACCESS_TOKEN

    def _refresh(self, secrets) -> str:
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not secrets.get(k)]
        if missing:
            raise CrmError(f"HubSpot OAuth: missing {', '.join(missing)}", permanent=True)
        response = transport.request(
            "hubspot",
            "POST",
            self.api + "/oauth/v1/token",
            data={
                "grant_type": "refresh_token",
                **{k: secrets[k] for k in ("client_id", "client_secret", "refresh_token")},
            },
        )
        body = transport.json_body(response)
        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise CrmError("HubSpot OAuth: the token answer has no access_token", permanent=True)
        self.connection.token_encrypted = crypto.encrypt({"access_token": access_token})
        self.connection.token_expires_at = timezone.now() + timedelta(seconds=_expires_in(body))
        refreshed = body.get("refresh_token")
        if isinstance(refreshed, str) and refreshed and refreshed != secrets["refresh_token"]:
            self.connection.set_secrets({**secrets, "refresh_token": refreshed})
        self.connection.save(update_fields=["token_encrypted", "token_expires_at", "secrets_encrypted"])
        return access_token

    # --- contacts ----------------------------------------------------------------------------------

    def properties(self, item: CustomerPayload) -> dict:
        props = {
            "firstname": item.first_name,
            "lastname": item.last_name,
            "phone": item.phone or "",
            "mobilephone": item.phone or "",
        }
        if item.email:
            props["email"] = item.email
        if item.whatsapp_phone:
            props["hs_whatsapp_phone_number"] = item.whatsapp_phone
        lead = self.option("lead_status_by_segment", DEFAULT_LEAD_STATUS).get(item.segment)
        if lead:
            props["hs_lead_status"] = lead
        stage = self.option("lifecycle_by_segment", DEFAULT_LIFECYCLE).get(item.segment)
        if stage:
            props["lifecyclestage"] = stage
        language_property = self.option("language_property", "hs_language")
        if language_property and item.language:
            props[language_property] = item.language
        if self.option("tags_property", ""):
            props[self.options["tags_property"]] = ";".join(item.tags)
        return props

    def push_customers(self, items):
        """Known HubSpot id: update by id (an e-mail change must not create a second contact); else
        upsert by e-mail; else create and keep the id."""
        by_id = [i for i in items if i.external_id]
        by_email = [i for i in items if not i.external_id and i.email]
        new = [i for i in items if not i.external_id and not i.email]
        outcomes = {}
        for batch in chunks(by_id, self.customer_batch_size):
            gone = self._update(batch, outcomes)
            new.extend(gone)  # deleted in HubSpot since: create them again
        for batch in chunks(by_email, self.customer_batch_size):
            self._upsert_by_email(batch, outcomes)
        for batch in chunks(new, self.customer_batch_size):
            self._create(batch, outcomes)
        return [outcomes[i.customer_id] for i in items]

    def _inputs(self, batch, extra=lambda item: {}):
        return [
            {"properties": self.properties(i), "objectWriteTraceId": str(i.customer_id), **extra(i)}
            for i in batch
        ]

    def _update(self, batch, outcomes) -> list[CustomerPayload]:
        inputs = self._inputs(batch, extra=lambda i: {"id": i.external_id})
        try:
            body = self._json("POST", "/crm/v3/objects/contacts/batch/update", json={"inputs": inputs})
        except CrmError as exc:
            if exc.status != 400 or "lifecyclestage" not in str(exc.body):
                raise
            # Portals refuse to move a lifecycle stage backwards: keep the stage HubSpot has.
            for item in inputs:
                item["properties"].pop("lifecyclestage", None)
            body = self._json("POST", "/crm/v3/objects/contacts/batch/update", json={"inputs": inputs})
        done = _traced_ids(body)
        not_found = {
            str(pk)
            for error in body.get("errors", [])
            if error.get("category") == "OBJECT_NOT_FOUND"
            for pk in error.get("context", {}).get("ids", [])
        }
        gone = []
        for item in batch:
            if str(item.customer_id) in done:
                outcomes[item.customer_id] = PushOutcome(item.customer_id, True, done[str(item.customer_id)])
            elif item.external_id in not_found:
                gone.append(replace(item, external_id=""))
            else:
                outcomes[item.customer_id] = PushOutcome(item.customer_id, False, error=_errors_text(body))
        return gone

    def _upsert_by_email(self, batch, outcomes):
        inputs = self._inputs(batch, extra=lambda i: {"idProperty": "email", "id": i.email})
        body = self._json("POST", "/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs})
        _record(batch, body, outcomes)

    def _create(self, batch, outcomes):
        try:
            body = self._json(
                "POST", "/crm/v3/objects/contacts/batch/create", json={"inputs": self._inputs(batch)}
            )
        except CrmError as exc:
            if exc.status != 409:
                raise
            # One contact already exists (a unique property clashed): go one by one, updating that one.
            for item in batch:
                outcomes[item.customer_id] = self._create_one(item)
            return
        _record(batch, body, outcomes)

    def _create_one(self, item) -> PushOutcome:
        props = self.properties(item)
        try:
            created = self._json("POST", "/crm/v3/objects/contacts", json={"properties": props})
            return PushOutcome(item.customer_id, True, _id_of(created))
        except CrmError as exc:
            existing = _EXISTING_ID.search(str(exc.body)) if exc.status == 409 else None
            if not existing:
                return PushOutcome(item.customer_id, False, error=str(exc), permanent=exc.permanent)
        self._call("PATCH", f"/crm/v3/objects/contacts/{existing.group(1)}", json={"properties": props})
        return PushOutcome(item.customer_id, True, existing.group(1))

    # --- interactions as notes ---------------------------------------------------------------------

    def push_interactions(self, items):
        outcomes = {}
        for batch in chunks(items, self.interaction_batch_size):
            inputs = [self._note(i) for i in batch]
            try:
                body = self._json("POST", "/crm/v3/objects/notes/batch/create", json={"inputs": inputs})
            except CrmError as exc:
                if exc.permanent and len(batch) > 1:
                    # One bad note must not sink the others: find it by sending them one at a time.
                    for item, note in zip(batch, inputs, strict=True):
                        outcomes[item.interaction_id] = self._note_one(item, note)
                    continue
                raise
            _record(batch, body, outcomes, key=lambda item: item.interaction_id)
        return [outcomes[i.interaction_id] for i in items]

    def _note_one(self, item, note) -> PushOutcome:
        note = {k: v for k, v in note.items() if k != "objectWriteTraceId"}
        try:
            created = self._json("POST", "/crm/v3/objects/notes", json=note)
            return PushOutcome(item.interaction_id, True, _id_of(created))
        except CrmError as exc:
            return PushOutcome(item.interaction_id, False, error=str(exc), permanent=exc.permanent)

    def _note(self, item: InteractionPayload) -> dict:
        return {
            "properties": {"hs_timestamp": item.occurred_at.isoformat(), "hs_note_body": note_body(item)},
            "associations": [
                {
                    "to": {"id": item.contact_external_id},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}
                    ],
                }
            ],
            "objectWriteTraceId": str(item.interaction_id),
        }

    # --- connection and pull -----------------------------------------------------------------------

    def _json(self, method, path, **kwargs) -> dict:
        return transport.json_body(self._call(method, path, **kwargs))

    def test_connection(self):
        self.interactive = True
        checks = []
        try:
            self._token()
            checks.append(
                Check("credentials", True, "token accepted" if self._oauth else "private-app token set")
            )
        except CrmError as exc:
            return [Check("credentials", False, str(exc))]
        try:
            self._json("GET", "/crm/v3/objects/contacts", params={"limit": 1})
            checks.append(Check("contacts", True, "contacts can be read"))
        except CrmError as exc:
            return [*checks, Check("contacts", False, str(exc))]
        return [*checks, self._check_account()]

    def _check_account(self) -> Check:
        """The portal id, kept for links into HubSpot."""
        try:
            portal = self._json("GET", "/account-info/v3/details").get("portalId")
        except CrmError as exc:
            return Check("account", False, f"portal id unknown, no links to contacts: {exc}")
        if opt.whole_number(1, 10**15)(portal):
            return Check("account", False, "HubSpot gave no usable portal id: no links to contacts")
        self.connection.options = {**self.options, "portal_id": portal}
        self.connection.save(update_fields=["options"])
        return Check("account", True, f"portal {portal}")

    @property
    def _oauth(self):
        return self.option("auth", "private_app") == "oauth"

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

    def external_url(self, external_id):
        portal = self.option("portal_id", None)
        if not (portal and external_id):
            return ""
        return f"https://app.hubspot.com/contacts/{portal}/record/0-1/{quote(str(external_id), safe='')}"


def note_body(item: InteractionPayload) -> str:
    """HubSpot shows note bodies as HTML: the customer's text is escaped, never interpreted."""
    arrow = "from the customer" if item.direction == "inbound" else "to the customer"
    by = f" by {item.author}" if item.author else ""
    head = f"<p><strong>{html.escape(item.channel.upper())} {arrow}{html.escape(by)}</strong></p>"
    return (head + "<p>" + html.escape(item.body).replace("\n", "<br>") + "</p>")[:65_000]


def _traced_ids(body: dict) -> dict:
    """objectWriteTraceId -> HubSpot id: batch results come back in no promised order."""
    results = body.get("results") if isinstance(body.get("results"), list) else []
    return {
        str(r.get("objectWriteTraceId")): str(r["id"]) for r in results if isinstance(r, dict) and r.get("id")
    }


def _record(batch, body, outcomes, key=lambda item: item.customer_id):
    """Each item's outcome, found by the trace id it was sent with; an item missing from the results
    failed, with whatever HubSpot said in `errors`."""
    done = _traced_ids(body)
    for item in batch:
        external = done.get(str(key(item)))
        outcomes[key(item)] = (
            PushOutcome(key(item), True, external)
            if external
            else PushOutcome(key(item), False, error=_errors_text(body))
        )


def _errors_text(body: dict) -> str:
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    messages = [str(e["message"]) for e in errors if isinstance(e, dict) and e.get("message")]
    return transport.shorten("; ".join(messages)) or "HubSpot did not return this record"


def _id_of(created) -> str:
    """The id HubSpot gave a new record; an answer without one is a failure, not a KeyError."""
    if not isinstance(created, dict) or not str(created.get("id") or "").strip():
        raise CrmError("HubSpot: the answer has no record id", permanent=True)
    return str(created["id"])


def _expires_in(body) -> int:
    try:
        return max(60, min(int(body.get("expires_in", 1800)), 86_400))
    except (TypeError, ValueError):
        return 1800


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
