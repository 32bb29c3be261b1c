"""Erasing and merging Salesforce Contacts, and updating pushed Tasks (a mixin of SalesforceBackend).

Erase, per the connection's `on_erase` option. First the Tasks Coccinelle pushed for the customer (the
message texts) are deleted, then the Contact:
- `delete` (default): sObject Collections delete, `DELETE /composite/sobjects?ids=…&allOrNone=false`
  (200 ids a call, one result per id in request order).
- `anonymise`: the Contact stays, updated by id: FirstName ANONYMOUS_FIRST, LastName ANONYMOUS_LAST (it
  is required), Email, Phone, MobilePhone, the external id field and the language and tags fields set to
  `null` (Salesforce clears a field sent as null: the one place Coccinelle clears Salesforce fields, on
  purpose). The e-mail opt-out and the segment field stay: they say nothing about who the person is.
A record already gone (ENTITY_IS_DELETED, INVALID_CROSS_REFERENCE_KEY, …) is erased already.

Merge: the REST API has no merge for Contacts; the SOAP API's `merge()` call does what Salesforce's own
"Merge Contacts" does: in one transaction it deletes the merged record and re-parents *every* related
record (Tasks, Events, Opportunity roles, Cases, Campaign history) to the master. Re-parenting Tasks by
REST and deleting the duplicate would move only what we know of, in several non-atomic calls. Up to 200
merge requests go in one SOAP call (`/services/Soap/u/<version>`, the OAuth access token as session
id), each its own transaction with its own result.
"""

import re
from urllib.parse import quote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from crm_backends import transport
from crm_backends.base import CrmError, PushOutcome

ANONYMOUS_FIRST, ANONYMOUS_LAST = "Erased", "contact"
MAX_IDS = 200
_GONE = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "INVALID_ID_FIELD", "NOT_FOUND"}
_RETRY = {"REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"}
_SOAP_NS = "urn:partner.soap.sforce.com"
_FAULT = re.compile(r"<faultcode>(?:[A-Za-z]+:)?([A-Z_]+)</faultcode>")
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    f'xmlns:urn="{_SOAP_NS}" xmlns:urn1="urn:sobject.partner.soap.sforce.com">'
    "<soapenv:Header><urn:SessionHeader><urn:sessionId>{session}</urn:sessionId></urn:SessionHeader>"
    "</soapenv:Header><soapenv:Body><urn:merge>{requests}</urn:merge></soapenv:Body></soapenv:Envelope>"
)
MERGE_REQUEST = (
    "<urn:request><urn:masterRecord><urn1:type>Contact</urn1:type><urn1:Id>{primary}</urn1:Id>"
    "</urn:masterRecord><urn:recordToMergeIds>{merged}</urn:recordToMergeIds></urn:request>"
)


class EraseMergeMixin:
    # --- erase ---------------------------------------------------------------------------------------

    def erase_contacts(self, items):
        problems = self._delete_activities(items)
        contacts = [i for i in items if i.key not in problems]
        if self.erase_mode == "anonymise":
            results = self._anonymise(contacts)
        else:
            results = self._delete_records([i.external_id for i in contacts])
        outcomes = {i.key: _erased(i, result) for i, result in zip(contacts, results, strict=True)}
        return [outcomes.get(i.key) or problems[i.key] for i in items]

    def _delete_activities(self, items) -> dict:
        """Delete the Tasks pushed for them; {key: failed outcome} of those whose Tasks could not go."""
        owned = [(item, task_id) for item in items for task_id in item.activities]
        results = self._delete_records([task_id for _, task_id in owned])
        problems = {}
        for (item, _), result in zip(owned, results, strict=True):
            outcome = _erased(item, result)
            if not outcome.ok and item.key not in problems:
                problems[item.key] = outcome
        return problems

    def _delete_records(self, ids: list[str]) -> list[dict]:
        results = []
        for start in range(0, len(ids), MAX_IDS):
            chunk = ids[start : start + MAX_IDS]
            params = {"ids": ",".join(chunk), "allOrNone": "false"}
            answer = transport.json_body(
                self._call("DELETE", "/composite/sobjects", params=params), expect=list
            )
            if len(answer) != len(chunk) or not all(isinstance(r, dict) for r in answer):
                raise CrmError(
                    f"Salesforce: {len(answer)} results for {len(chunk)} deletions", permanent=False
                )
            results += answer
        return results

    def _anonymise(self, items) -> list[dict]:
        cleared = ["Email", "Phone", "MobilePhone", self.ext_field]
        cleared += [self.option("language_field", ""), self.option("tags_field", "")]
        values = {"FirstName": ANONYMOUS_FIRST, "LastName": ANONYMOUS_LAST, **{f: None for f in cleared if f}}
        results = []
        for start in range(0, len(items), MAX_IDS):
            records = [
                {"attributes": {"type": "Contact"}, "id": i.external_id, **values}
                for i in items[start : start + MAX_IDS]
            ]
            results += self._collection("PATCH", "/composite/sobjects", records)
        return results

    # --- tasks already pushed --------------------------------------------------------------------------

    def update_interactions(self, items):
        """Rewrite pushed Tasks by id (a new delivery status); a Task deleted since: nothing to do."""
        outcomes = []
        for start in range(0, len(items), MAX_IDS):
            batch = items[start : start + MAX_IDS]
            records = [
                {"attributes": {"type": "Task"}, "id": i.external_id, **_text_fields(self._task(i))}
                for i in batch
            ]
            results = self._collection("PATCH", "/composite/sobjects", records)
            for item, result in zip(batch, results, strict=True):
                gone = not result.get("success") and _codes(result) & _GONE
                ok = result.get("success") or gone
                outcomes.append(
                    PushOutcome(item.interaction_id, True, item.external_id)
                    if ok
                    else _failed(item.interaction_id, result)
                )
        return outcomes

    # --- merge ---------------------------------------------------------------------------------------

    def merge_contacts(self, items):
        outcomes = []
        for start in range(0, len(items), MAX_IDS):
            batch = items[start : start + MAX_IDS]
            results = self._soap_merge(batch)
            if len(results) != len(batch):
                raise CrmError(f"Salesforce: {len(results)} merge results for {len(batch)}", permanent=False)
            outcomes += [self._merged(item, result) for item, result in zip(batch, results, strict=True)]
        return outcomes

    def _merged(self, item, result: dict) -> PushOutcome:
        if result.get("success"):
            return PushOutcome(item.key, True, item.primary_id)
        if _codes(result) & _GONE:  # one of them is gone: merged already, or deleted by sales
            if not self._exists(item.merged_id):
                return PushOutcome(item.key, True, item.primary_id)
            if not self._exists(item.primary_id):
                return PushOutcome(item.key, True, item.merged_id)
        return _failed(item.key, result)

    def _exists(self, contact_id) -> bool:
        try:
            self._json("GET", f"/sobjects/Contact/{quote(contact_id, safe='')}", params={"fields": "Id"})
        except CrmError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _soap_merge(self, batch) -> list[dict]:
        """One SOAP merge() call; an expired session gets a new token once, like REST calls."""
        requests = "".join(
            MERGE_REQUEST.format(primary=escape(i.primary_id), merged=escape(i.merged_id)) for i in batch
        )
        for attempt in (1, 2):
            session = self._session()
            url = f"{session['instance_url']}/services/Soap/u/{self.version.lstrip('v')}"
            envelope = ENVELOPE.format(session=escape(session["access_token"]), requests=requests)
            headers = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'}
            try:
                response = transport.request(
                    "salesforce", "POST", url, data=envelope.encode(), headers=headers
                )
            except CrmError as exc:
                code = _fault_code(exc.body)
                if code == "INVALID_SESSION_ID" and attempt == 1:
                    self.connection.token_encrypted = ""
                    continue
                transient = code in _RETRY or exc.status is None or exc.status in (408, 429, 502, 503, 504)
                message = f"Salesforce merge: {code or 'HTTP ' + str(exc.status)}"
                raise CrmError(message, permanent=not transient, status=exc.status) from None
            return _merge_results(response.content)
        raise AssertionError("unreachable")


def _merge_results(content: bytes) -> list[dict]:
    """The mergeResponse's results, as {success, id, errors: [{statusCode, message}]}. A document with
    a DTD is refused unread (SOAP forbids them; entity tricks live there)."""
    if b"<!DOCTYPE" in content.upper() or b"<!ENTITY" in content.upper():
        raise CrmError("Salesforce merge: the answer carries a DTD; not read", permanent=True)
    try:
        root = ElementTree.fromstring(content)  # noqa: S314 - DTDs refused above: no entities to expand
    except ElementTree.ParseError:
        raise CrmError("Salesforce merge: the answer is not XML", permanent=False) from None
    results = []
    for result in root.iter(f"{{{_SOAP_NS}}}result"):
        errors = [
            {"statusCode": _text(e, "statusCode"), "message": _text(e, "message")}
            for e in result.findall(f"{{{_SOAP_NS}}}errors")
        ]
        results.append(
            {"success": _text(result, "success") == "true", "id": _text(result, "id"), "errors": errors}
        )
    return results


def _text(element, name) -> str:
    found = element.find(f"{{{_SOAP_NS}}}{name}")
    return (found.text or "").strip() if found is not None else ""


def _fault_code(body) -> str:
    found = _FAULT.search(body) if isinstance(body, str) else None
    return found.group(1) if found else ""


def _codes(result: dict) -> set[str]:
    errors = result.get("errors")
    return {e.get("statusCode") for e in errors if isinstance(e, dict)} if isinstance(errors, list) else set()


def _erased(item, result: dict) -> PushOutcome:
    if result.get("success") or _codes(result) & _GONE:
        return PushOutcome(item.key, True, item.external_id)
    return _failed(item.key, result)


def _failed(key, result: dict) -> PushOutcome:
    errors = [e for e in result.get("errors") or [] if isinstance(e, dict)]
    message = "; ".join(f"{e.get('statusCode', 'ERROR')}: {e.get('message', '')}" for e in errors)
    transient = not errors or all(e.get("statusCode") in _RETRY for e in errors)
    return PushOutcome(
        key, False, error=transport.shorten(message or "Salesforce gave no reason"), permanent=not transient
    )


def _text_fields(task: dict) -> dict:
    return {"Subject": task["Subject"], "Description": task["Description"]}
