"""Erasing and merging HubSpot contacts (a mixin of HubSpotBackend).

Erase, per the connection's `on_erase` option:
- `delete` (default): `POST /crm/v3/objects/contacts/gdpr-delete` `{objectId}` ("permanently delete a
  contact and all associated content to follow GDPR"; the contacts spec, PublicGdprDeleteInput).
- `anonymise`: the contact stays (deals and reports keep counting it) but what Coccinelle pushed that
  identifies the person is overwritten: first and last name become ANONYMOUS_NAME, e-mail, phone,
  mobile phone, WhatsApp number, language, tags and `coccinelle_id` are cleared (sent as "", which
  HubSpot documents as clearing the property). Lead status and lifecycle stage stay: they say nothing
  about the person. This is the one place Coccinelle clears HubSpot properties, on purpose.
The notes Coccinelle pushed for the customer (message texts) are archived
(`POST /crm/v3/objects/notes/batch/archive`): first when anonymising, after the GDPR delete otherwise (which
purges associated content itself; an archived note sits in HubSpot's recycle bin). Anonymising is no
GDPR erasure in HubSpot: the contact's property history still shows the old values, and the secondary
e-mails of contacts merged into it (`hs_additional_emails`, not writable here) stay (the README says so).
A contact HubSpot no longer has (404) is erased already.

Merge: `POST /crm/v3/objects/contacts/merge` `{primaryObjectId, objectIdToMerge}`; HubSpot moves the
merged contact's notes and associations to the primary and answers with the record that remains.
"""

from urllib.parse import quote

from crm_backends.base import CrmError, PushOutcome

ANONYMOUS_NAME = {"firstname": "Erased", "lastname": "contact"}
# Errors about one contact (others are the whole call's: auth, rate limit, outage).
_ITEM_STATUSES = {400, 404, 409, 410, 422}


class EraseMergeMixin:
    def erase_contacts(self, items):
        self._prepare()
        return [self._erase(item) for item in items]

    def _erase(self, item) -> PushOutcome:
        try:
            if self.erase_mode == "anonymise":
                self._archive_notes(item.activities)
                path = f"/crm/v3/objects/contacts/{quote(item.external_id, safe='')}"
                self._call("PATCH", path, json={"properties": self.anonymous_properties()})
            else:
                # The GDPR delete first: it purges the contact's associated content for good, where an
                # archived note would sit in the recycle bin; what it leaves is archived after.
                self._call(
                    "POST", "/crm/v3/objects/contacts/gdpr-delete", json={"objectId": item.external_id}
                )
                self._archive_notes(item.activities)
        except CrmError as exc:
            if exc.status == 404:
                return PushOutcome(item.key, True, item.external_id)  # gone already: nothing left of them
            if exc.status not in _ITEM_STATUSES:
                raise
            return PushOutcome(item.key, False, error=str(exc), permanent=exc.permanent)
        return PushOutcome(item.key, True, item.external_id)

    def anonymous_properties(self) -> dict:
        cleared = ["email", "phone", "mobilephone", "hs_whatsapp_phone_number"]
        cleared += [self.option("language_property", "hs_language"), self.option("tags_property", "")]
        cleared.append(self.option("id_property", "coccinelle_id") if self.id_property else "")
        return {**ANONYMOUS_NAME, **{name: "" for name in cleared if name}}

    def _archive_notes(self, note_ids) -> None:
        """Archiving is idempotent: notes already gone are no error."""
        ids = list(note_ids)
        for start in range(0, len(ids), self.interaction_batch_size):
            inputs = [{"id": note_id} for note_id in ids[start : start + self.interaction_batch_size]]
            self._call("POST", "/crm/v3/objects/notes/batch/archive", json={"inputs": inputs})

    def merge_contacts(self, items):
        self._prepare()
        return [self._merge(item) for item in items]

    def _merge(self, item) -> PushOutcome:
        body = {"primaryObjectId": item.primary_id, "objectIdToMerge": item.merged_id}
        try:
            merged = self._json("POST", "/crm/v3/objects/contacts/merge", json=body)
        except CrmError as exc:
            if exc.status not in _ITEM_STATUSES:
                raise
            if exc.status == 404:
                return self._after_missing(item, exc)
            return PushOutcome(item.key, False, error=str(exc), permanent=exc.permanent)
        survivor = str(merged.get("id") or "").strip() or item.primary_id
        return PushOutcome(item.key, True, survivor)

    def _after_missing(self, item, exc) -> PushOutcome:
        """One of the two is gone. The merged one (merged already: a retry after a lost answer, or sales
        did it): done. The primary (sales deleted it): the merged contact is the survivor's now."""
        if not self._exists(item.merged_id):
            return PushOutcome(item.key, True, item.primary_id)
        if not self._exists(item.primary_id):
            return PushOutcome(item.key, True, item.merged_id)
        return PushOutcome(item.key, False, error=str(exc), permanent=False)

    def _exists(self, contact_id) -> bool:
        """HubSpot answers a merged-away id with the record it was merged into: that is not it."""
        try:
            found = self._json("GET", f"/crm/v3/objects/contacts/{quote(contact_id, safe='')}")
        except CrmError as exc:
            if exc.status == 404:
                return False
            raise
        return str(found.get("id")) == str(contact_id)
