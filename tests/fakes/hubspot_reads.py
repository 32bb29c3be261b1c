"""Reads in the fake HubSpot (list, batch read, search), as a mixin of FakeHubSpot."""

import re
import time

from tests.fakes.hubspot_schema import Reject, error, invalid

MAX_SEARCH_LIMIT = 200
MAX_LIST_LIMIT = 100
DEFAULT_CONTACT_PROPERTIES = (
    "createdate",
    "email",
    "firstname",
    "hs_object_id",
    "lastmodifieddate",
    "lastname",
)
NOT_FOUND_IN_BATCH = (
    "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid."
)


class ReadsMixin:
    def _list_contacts(self, request):
        limit = _int_param(request, "limit", 10)
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise invalid(f"limit must be between 1 and {MAX_LIST_LIMIT}")
        after = _int_param(request, "after", 0)
        names = wanted(request, DEFAULT_CONTACT_PROPERTIES)
        ids = sorted(int(i) for i in self.contacts if int(i) >= after)
        page = ids[:limit]
        body = {"results": [self._contact_out(str(i), names) for i in page]}
        if len(ids) > limit:
            next_after = str(ids[limit])
            body["paging"] = {
                "next": {
                    "after": next_after,
                    "link": f"{self.url}/crm/v3/objects/contacts?after={next_after}",
                }
            }
        return 200, body

    def _batch_read(self, request):
        started = time.time()
        body = self._body(request)
        inputs = read_inputs(body, max_size=self.max_batch)
        id_property = body.get("idProperty")
        names = list(body.get("properties") or DEFAULT_CONTACT_PROPERTIES)
        results, missing = [], []
        for item in inputs:
            raw = str(item.get("id"))
            if id_property:
                contact_id = self._by_property(id_property, raw)
            else:  # a merged-away id answers with the record it was merged into
                resolved = self.resolve_merged(raw)
                contact_id = resolved if resolved in self.contacts else None
            if contact_id is None:
                missing.append(raw)
            else:
                result = self._contact_out(contact_id, names)
                if "hs_merged_object_ids" in names:
                    merged = sorted(
                        k for k, v in self.merged_into.items() if self.resolve_merged(v) == contact_id
                    )
                    result["properties"]["hs_merged_object_ids"] = ";".join(merged) or None
                results.append(result)
        return self._batch_answer(200, started, results, not_found_errors(missing))

    def _search(self, request):
        body = self._body(request)
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or not 0 <= limit <= MAX_SEARCH_LIMIT:
            raise invalid(f"limit must be between 0 and {MAX_SEARCH_LIMIT}")
        groups = body.get("filterGroups") or []
        if len(groups) > 5 or any(len(g.get("filters") or []) > 6 for g in groups):
            raise Reject(
                *error(400, "Too many filterGroups (max 5) or filters (max 6 per group)", "VALIDATION_ERROR")
            )
        if sum(len(g.get("filters") or []) for g in groups) > 18:
            raise invalid("Too many filters (max 18 in all)")
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
            raise invalid("after must be a paging cursor") from exc
        if after + limit > 10_000:
            raise invalid("Search results are capped at 10,000")
        page = matching[after : after + limit]
        names = list(body.get("properties") or DEFAULT_CONTACT_PROPERTIES)
        out = {"total": len(matching), "results": [self._contact_out(i, names) for i in page]}
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
                raise Reject(*error(400, f"Unsupported operator {operator} in this fake", "VALIDATION_ERROR"))
            if not ok:
                return False
        return True


def _string(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _int_param(request, name: str, default: int) -> int:
    raw = (request.query.get(name) or [None])[0]
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise invalid(f"{name} must be an integer") from exc


def wanted(request, default) -> list[str]:
    names = [n for raw in request.query.get("properties", []) for n in raw.split(",") if n]
    return sorted(set(default) | set(names))


def read_inputs(body: dict, *, max_size: int) -> list[dict]:
    """BatchReadInputSimplePublicObjectId: `inputs` of `{id}` (strings), `properties` and
    `propertiesWithHistory` (lists of names) required, `idProperty` a unique property if given."""
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise invalid("Invalid input JSON: inputs must be a list of objects")
    if len(inputs) > max_size:
        raise invalid(f"Batch input size of {len(inputs)} exceeds the limit of {max_size}")
    if not all(isinstance(i.get("id"), str) and i["id"] for i in inputs):
        raise invalid("Invalid input JSON: each input requires an id (a string)")
    for name in ("properties", "propertiesWithHistory"):
        if not isinstance(body.get(name), list):
            raise invalid(f"Invalid input JSON: {name} is required (a list of property names)")
    return inputs


def not_found_errors(missing: list[str]) -> list[dict]:
    """A batch's per-item errors for ids the portal does not have, as HubSpot writes them (207)."""
    if not missing:
        return []
    return [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": NOT_FOUND_IN_BATCH,
            "context": {"ids": missing},
            "errors": [],
            "links": {},
        }
    ]
