"""Notes in the fake HubSpot (`/crm/v3/objects/notes`, single and batch create), as a mixin of
FakeHubSpot: checked against HubSpot's Notes spec (see hubspot_schema.py for the source)."""

import time

from tests.fakes.hubspot_schema import (
    Reject,
    error,
    invalid_properties,
    problem,
    string_values,
    timestamp_ok,
)

MAX_NOTE_BODY = 65_536
NOTE_TO_CONTACT = 202


class NotesMixin:
    def _check_note(self, item) -> tuple[dict, list[dict]]:
        props = string_values(item.get("properties"), refuse_blank=self.refuse_blank)
        if not props.get("hs_timestamp"):
            raise invalid_properties([problem("hs_timestamp", "hs_timestamp is required", "REQUIRED_FIELD")])
        if not timestamp_ok(props["hs_timestamp"]):
            message = (
                f"{props['hs_timestamp']} is not a valid datetime: "
                "use YYYY-MM-DDThh:mm:ss.sssZ (UTC) or milliseconds since the epoch"
            )
            raise invalid_properties([problem("hs_timestamp", message, "INVALID_DATETIME")])
        if len(props.get("hs_note_body", "")) > MAX_NOTE_BODY:
            message = f"hs_note_body is longer than {MAX_NOTE_BODY} characters"
            raise invalid_properties([problem("hs_note_body", message, "INVALID_STRING_LENGTH")])
        return props, self._note_associations(item.get("associations") or [])

    def _note_associations(self, associations) -> list[dict]:
        normalized = []
        for assoc in associations:
            to_id = str(((assoc or {}).get("to") or {}).get("id", ""))
            types = (assoc or {}).get("types") or []
            if not types or any(
                t.get("associationCategory") != "HUBSPOT_DEFINED"
                or t.get("associationTypeId") != NOTE_TO_CONTACT
                for t in types
            ):
                raise Reject(
                    *error(
                        400,
                        f"Invalid association type: notes to contacts use HUBSPOT_DEFINED {NOTE_TO_CONTACT}",
                        "VALIDATION_ERROR",
                    )
                )
            if to_id not in self.contacts:
                raise Reject(
                    *error(
                        400,
                        f"One or more association targets do not exist: contact {to_id or '(missing)'}",
                        "VALIDATION_ERROR",
                    )
                )
            normalized.append({"to": {"id": to_id}, "types": [dict(t) for t in types]})
        return normalized

    def _store_note(self, props: dict, associations: list[dict]) -> str:
        note_id = str(next(self._ids))
        now = time.time()
        self.notes[note_id] = {"properties": props, "associations": associations}
        self._meta[note_id] = {"created": now, "updated": now, "indexed": self._now()}
        return note_id

    def _note_out(self, note_id: str, wanted=None, trace=None) -> dict:
        meta = self._meta[note_id]
        props = dict(
            self.notes[note_id]["properties"],
            hs_object_id=note_id,
            hs_createdate=self._iso(meta["created"]),
            hs_lastmodifieddate=self._iso(meta["updated"]),
        )
        if wanted is not None:
            props = {name: props.get(name) for name in wanted}
        out = {
            "id": note_id,
            "properties": props,
            "createdAt": self._iso(meta["created"]),
            "updatedAt": self._iso(meta["updated"]),
            "archived": False,
        }
        if trace and self.echo_trace_ids:
            out["objectWriteTraceId"] = trace
        return out

    def _create_note(self, request):
        props, associations = self._check_note(self._body(request))
        return 201, self._note_out(self._store_note(props, associations))

    def _batch_create_notes(self, request):
        """Like HubSpot: an invalid note refuses the whole batch (nothing is stored); results come back
        in another order, without the trace ids unless the fake is told to echo them."""
        started = time.time()
        checked = [
            (self._check_note(item), item.get("objectWriteTraceId"))
            for item in self._inputs(request, need_id=False)
        ]
        results = [
            self._note_out(self._store_note(props, associations), trace=trace)
            for (props, associations), trace in checked
        ]
        return self._batch_answer(201, started, results, [])
