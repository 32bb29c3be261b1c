"""GDPR delete, merge, and note updates and archiving in the fake HubSpot (a mixin of FakeHubSpot).

Source: HubSpot's published OpenAPI specs (github.com/HubSpot/HubSpot-public-api-spec-collection,
public specs published by HubSpot), `PublicApiSpecs/CRM/Contacts/Rollouts/424/v3/contacts.json` and
`CRM/Notes/Rollouts/424/v3/notes.json`; only facts and schemas are used, no code:
- `POST /crm/v3/objects/contacts/gdpr-delete`, body PublicGdprDeleteInput: `objectId` (string,
  required), `idProperty` (optional: a unique property instead of the id). "Permanently delete a contact
  and all associated content to follow GDPR": the contact and the notes associated only with it go;
  204 No content. An unknown contact: 404 OBJECT_NOT_FOUND.
- `POST /crm/v3/objects/contacts/merge`, body PublicMergeInput: `primaryObjectId` and `objectIdToMerge`
  (strings, both required); 200 with the SimplePublicObject that remains. The merged contact's notes are
  associated with the primary; the primary keeps its values, empty ones are filled from the merged
  contact. As in HubSpot, the merged id keeps answering GET with the record it was merged into.
- `POST /crm/v3/objects/notes/batch/update` (SimplePublicObjectBatchInput: `id` and `properties`
  required; unknown ids are errors with their ids in `context`, 207) and `POST .../batch/archive`
  (BatchInputSimplePublicObjectId: `inputs: [{id}]`; 204, archiving what is already gone is no error).

Recorded: `gdpr_deleted` (contact ids), `merges` ((primary, merged) pairs), `merged_into` (alias ids).
"""

import time

from tests.fakes.hubspot_reads import not_found_errors
from tests.fakes.hubspot_schema import Reject, error, invalid, string_values


class GdprMixin:
    def _init_gdpr(self):
        self.gdpr_deleted: list[str] = []
        self.merges: list[tuple[str, str]] = []
        self.merged_into: dict[str, str] = {}

    def gdpr_routes(self) -> dict:
        return {
            ("POST", "/crm/v3/objects/contacts/gdpr-delete"): self._gdpr_delete,
            ("POST", "/crm/v3/objects/contacts/merge"): self._merge,
            ("POST", "/crm/v3/objects/notes/batch/update"): self._batch_update_notes,
            ("POST", "/crm/v3/objects/notes/batch/archive"): self._batch_archive_notes,
        }

    def resolve_merged(self, contact_id: str) -> str:
        while contact_id in self.merged_into:
            contact_id = self.merged_into[contact_id]
        return contact_id

    def _required_strings(self, body: dict, *names) -> list[str]:
        values = []
        for name in names:
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                raise invalid(f"Invalid input JSON: {name} is required and must be a string")
            values.append(value.strip())
        return values

    def _gdpr_delete(self, request):
        body = self._body(request)
        (object_id,) = self._required_strings(body, "objectId")
        id_property = body.get("idProperty")
        if id_property in (None, "hs_object_id"):
            contact_id = object_id if object_id in self.contacts else None
        elif id_property == "email" or self._unique(id_property):
            contact_id = self._by_property(id_property, object_id)
        else:
            raise invalid(f"{id_property} is not a unique property")
        if contact_id is None:
            return error(404, "resource not found", "OBJECT_NOT_FOUND")
        for note_id in [n for n, note in self.notes.items() if self._only_on(note, contact_id)]:
            del self.notes[note_id]
        self._delete_contact(contact_id)
        self.gdpr_deleted.append(contact_id)
        return 204, b""

    @staticmethod
    def _only_on(note: dict, contact_id: str) -> bool:
        targets = {a["to"]["id"] for a in note.get("associations", [])}
        return targets == {contact_id}

    def _merge(self, request):
        primary, merged = self._required_strings(self._body(request), "primaryObjectId", "objectIdToMerge")
        if primary == merged:
            raise invalid("Cannot merge a contact with itself")
        for contact_id in (primary, merged):
            if contact_id not in self.contacts:
                return error(
                    404, f"Object not found. objectId are usually numeric. {contact_id}", "OBJECT_NOT_FOUND"
                )
        kept, other = self.contacts[primary], self.contacts[merged]
        filled = {k: v for k, v in other.items() if v and not kept.get(k) and not self._unique(k)}
        for note in self.notes.values():
            for association in note.get("associations", []):
                if association["to"]["id"] == merged:
                    association["to"]["id"] = primary
        self._delete_contact(merged)
        self._store_contact(filled, primary)
        self.merged_into[merged] = primary
        self.merges.append((primary, merged))
        return 200, self._contact_out(primary)

    def _batch_update_notes(self, request):
        started = time.time()
        inputs = self._inputs(request, need_id=True)
        missing = [item["id"] for item in inputs if item["id"] not in self.notes]
        checked = []
        for item in inputs:
            if item["id"] in missing:
                continue
            props = string_values(item.get("properties"), refuse_blank=self.refuse_blank)
            checked.append((item["id"], props, item.get("objectWriteTraceId")))
        results = []
        for note_id, props, trace in checked:
            self.notes[note_id]["properties"].update(props)
            self._meta[note_id]["updated"] = time.time()
            results.append(self._note_out(note_id, trace=trace))
        return self._batch_answer(200, started, results, not_found_errors(missing))

    def _batch_archive_notes(self, request):
        inputs = self._body(request).get("inputs")
        if not isinstance(inputs, list) or not all(
            isinstance(i, dict) and isinstance(i.get("id"), str) for i in inputs
        ):
            raise invalid("Invalid input JSON: inputs must be a list of {id}")
        if len(inputs) > self.max_batch:
            raise Reject(
                *error(400, f"Batch input size of {len(inputs)} exceeds the limit", "VALIDATION_ERROR")
            )
        for item in inputs:
            self.notes.pop(item["id"], None)
        return 204, b""
