"""Which HubSpot batch result, and which batch error, belongs to which input.

HubSpot returns batch results in no set order, and `objectWriteTraceId` is optional in its schema and
absent from its own examples. So each input is sent with an identity HubSpot gives back: the record id
(update), the value of the unique property it was upserted on (e-mail or `coccinelle_id`), or for notes
the `hs_timestamp` (made unique within a request by the caller). The trace id is used first when it is
echoed. A 207's errors carry their own `context` (trace ids, ids, e-mails): each goes to its own input,
never to every failed one.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from crm_backends import transport
from crm_backends.base import PushOutcome

# Per-item error categories that may succeed later (the rest fail the item until someone acts).
TRANSIENT_CATEGORIES = {"RATE_LIMITS", "LOCKED", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"}
# HubSpot's retryable statuses besides every 5xx (its own and Cloudflare's 521/523/524): request
# timeout, locked (wait >= 2 s), too early, rate limit, migrating (Retry-After). Not 409: a conflict is
# about one record and retrying cannot help.
TRANSIENT_STATUSES = {408, 423, 425, 429, 477}


@dataclass
class Sent:
    """One input of a batch: whose it is (`key`), what was sent, and how to recognise its result:
    `identity` is (property name, value); "hs_object_id" means the result's `id`."""

    key: int
    input: dict
    identity: tuple[str, str]

    @property
    def trace(self) -> str:
        return str(self.input.get("objectWriteTraceId") or "")


@dataclass
class Matched:
    written: dict = field(default_factory=dict)  # key -> HubSpot id
    errors: dict = field(default_factory=dict)  # key -> [error dicts attributed to it]
    unexplained: list = field(default_factory=list)  # error messages no input could be found for


def match(sent: list[Sent], body: dict) -> Matched:
    out = Matched()
    results = [r for r in _list(body, "results") if str(r.get("id") or "").strip()]
    by_trace = {s.trace: s for s in sent if s.trace}
    by_identity = {_norm(s.identity[0], s.identity[1]): s for s in sent}
    leftovers = []
    for result in results:
        owner = by_trace.get(str(result.get("objectWriteTraceId") or "")) or _owner(result, sent, by_identity)
        if owner is None or owner.key in out.written:
            leftovers.append(result)
        else:
            out.written[owner.key] = str(result["id"])
    missing = [s for s in sent if s.key not in out.written]
    if len(leftovers) == 1 and len(missing) == 1 and not _list(body, "errors"):
        out.written[missing[0].key] = str(leftovers[0]["id"])  # one of each: they belong together
    _attribute_errors(sent, body, out, by_trace, by_identity)
    return out


def read_back_requests(sent: list[Sent]) -> list[tuple[list[Sent], dict]]:
    """Batch reads (`POST /crm/v3/objects/contacts/batch/read`) that find the records of inputs a write
    answered without a result of their own: by the unique property they were upserted on, or by id
    asking for `hs_merged_object_ids` (HubSpot answers a merged-away id with the record it went into)."""
    requests = []
    for name in dict.fromkeys(s.identity[0] for s in sent):
        if not name or name == "hs_timestamp":
            continue  # created without an identity, or a note: nothing to read them back by
        group = [s for s in sent if s.identity[0] == name]
        # BatchReadInputSimplePublicObjectId: inputs, properties and propertiesWithHistory, idProperty.
        body = {"inputs": [{"id": s.identity[1]} for s in group], "propertiesWithHistory": []}
        if name == "hs_object_id":
            body["properties"] = ["hs_merged_object_ids"]
        else:
            body.update(idProperty=name, properties=[name])
        requests.append((group, body))
    return requests


def read_back_claims(group: list[Sent], body: dict) -> dict:
    """{key: HubSpot id} of the inputs the read found (see read_back_requests)."""
    found = {}
    for result in _list(body, "results"):
        record = str(result.get("id") or "").strip()
        props = result.get("properties") if isinstance(result.get("properties"), dict) else {}
        merged = {m.strip() for m in str(props.get("hs_merged_object_ids") or "").split(";") if m.strip()}
        for s in group:
            name, value = s.identity
            if name == "hs_object_id":
                mine = value in ({record} | merged)
            else:
                mine = props.get(name) is not None and _norm(name, props[name]) == _norm(name, value)
            if record and mine:
                found[s.key] = record
    return found


def outcome(key, answer) -> PushOutcome:
    """A `_send` answer as an outcome: a HubSpot id (written), or the errors that are this input's."""
    if isinstance(answer, str):
        return PushOutcome(key, True, answer)
    permanent = not transient(answer)
    return PushOutcome(key, False, error=error_text(answer), permanent=permanent)


def transient_status(status) -> bool:
    return status in TRANSIENT_STATUSES or 500 <= status <= 599


def error_text(errors: list[dict]) -> str:
    return transport.shorten("; ".join(_message(e) for e in errors)) or "HubSpot did not return this record"


def transient(errors: list[dict]) -> bool:
    return bool(errors) and all(
        e.get("category") in TRANSIENT_CATEGORIES or transient_status(e.get("status_code") or 0)
        for e in errors
    )


def hs_timestamp(moment: datetime) -> str:
    """HubSpot's documented form: YYYY-MM-DDThh:mm:ss.sssZ, in UTC, to the millisecond."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _owner(result: dict, sent: list[Sent], by_identity: dict) -> Sent | None:
    props = result.get("properties") if isinstance(result.get("properties"), dict) else {}
    for name in {s.identity[0] for s in sent}:
        value = result.get("id") if name == "hs_object_id" else props.get(name)
        if value is not None and (owner := by_identity.get(_norm(name, value))):
            return owner
    return None


def _attribute_errors(sent, body, out: Matched, by_trace, by_identity) -> None:
    names = {s.identity[0] for s in sent}
    for error in _list(body, "errors"):
        context = error.get("context") if isinstance(error.get("context"), dict) else {}
        traces = _values(context, "objectWriteTraceId")
        owners = {by_trace[t].key: by_trace[t] for t in traces if t in by_trace}
        for value in _values(context, "ids") + _values(context, "emails"):
            for name in names:
                if owner := by_identity.get(_norm(name, value)):
                    owners[owner.key] = owner
        for owner in owners.values():
            if owner.key not in out.written:
                out.errors.setdefault(owner.key, []).append(error)
        if not owners:
            out.unexplained.append(_message(error))
    # An error nobody claimed, and exactly one input without an answer: that error is its.
    missing = [s for s in sent if s.key not in out.written and s.key not in out.errors]
    if len(missing) == 1 and out.unexplained:
        out.errors[missing[0].key] = [{"message": m} for m in out.unexplained]
        out.unexplained = []


def _norm(name: str, value) -> tuple[str, str]:
    text = str(value).strip().lower()
    if name == "hs_timestamp":
        text = str(_epoch_ms(text))
    return name, text


def _epoch_ms(text: str):
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return text
    return int(moment.timestamp() * 1000) if moment.tzinfo else text


def _list(body, name) -> list[dict]:
    value = body.get(name) if isinstance(body, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _values(context: dict, name: str) -> list[str]:
    value = context.get(name)
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int)]
    return [str(value)] if isinstance(value, str | int) else []


def _message(error: dict) -> str:
    return str(error.get("message") or error.get("category") or "an error without a message")
