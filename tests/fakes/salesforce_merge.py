"""Deleting records (sObject Collections) and merging Contacts (the SOAP API's merge()) in the fake
Salesforce, a mixin of FakeSalesforce.

As documented (facts only, no code):
- REST API Developer Guide, "Delete Multiple Records with Fewer Round-Trips":
  `DELETE /services/data/vXX.X/composite/sobjects?ids=<id>,<id>&allOrNone=false`, at most 200 ids, one
  result per id in request order, `{id, success, errors: [{statusCode, message, fields}]}`. An id whose
  record is already deleted: ENTITY_IS_DELETED; an id that names nothing: INVALID_CROSS_REFERENCE_KEY
  (this fake's choice for unknown ids). The fake does not cascade a Contact's deletion to its Tasks.
- SOAP API Developer Guide, merge() (developer.salesforce.com/docs/atlas.en-us.api.meta/api/
  sforce_api_calls_merge.htm): `POST /services/Soap/u/<version>`, a SessionHeader with the session id
  (an OAuth access token works), `<merge>` with up to 200 `<request>`s, each a `masterRecord` (type and
  Id) and one or two `recordToMergeIds`; Lead, Contact, Account only. Each request is its own
  transaction: the merged records are deleted (MasterRecordId set), every related record (here: Tasks,
  by WhoId) is re-parented to the master, the master keeps its own field values. The answer is a
  `mergeResponse` with one `result` per request: `id`, `mergedRecordIds`, `success`,
  `updatedRelatedIds`, `errors` (statusCode, message). A bad session: HTTP 500 with a SOAP fault
  `sf:INVALID_SESSION_ID`.

Recorded: `deleted` (record id -> the master it was merged into, or None), `soap_merges` (master, merged).
"""

from xml.etree import ElementTree
from xml.sax.saxutils import escape

from tests.fakes.salesforce_schema import _record_error

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"
SOBJECT = "urn:sobject.partner.soap.sforce.com"
MAX_MERGE_REQUESTS = 200


class MergeMixin:
    def _init_merge(self):
        self.deleted: dict[str, str | None] = {}
        self.soap_merges: list[tuple[str, str]] = []

    # ---- sObject Collections delete ---------------------------------------------------------------

    def _composite_delete(self, request):
        ids = [i for i in ",".join(request.query.get("ids", [])).split(",") if i]
        if not ids or len(ids) > self.max_batch:
            return 400, [{"errorCode": "INVALID_FIELD", "message": f"between 1 and {self.max_batch} ids"}]
        all_or_none = (request.query.get("allOrNone") or ["false"])[0].lower() == "true"
        planned = []
        for raw_id in ids:
            found = self._find_any(raw_id)
            if found is None:
                code = "ENTITY_IS_DELETED" if raw_id in self.deleted else "INVALID_CROSS_REFERENCE_KEY"
                planned.append(([_record_error(code, f"{code}: {raw_id}")], None))
            else:
                planned.append(([], lambda found=found: self._delete_record(*found)))
        results = self._commit(planned, all_or_none)
        return 200, [dict(r, id=r.get("id") or raw_id) for raw_id, r in zip(ids, results, strict=True)]

    def _find_any(self, raw_id):
        for sobject in self._tables:
            record_id = self._resolve(sobject, raw_id)
            if record_id is not None:
                return sobject, record_id
        return None

    def _delete_record(self, sobject, record_id, master=None) -> dict:
        del self._tables[sobject][record_id]
        self.deleted[record_id] = master
        if sobject == "Contact":
            self.reindex()
        return {"id": record_id, "success": True, "errors": []}

    # ---- SOAP merge() -----------------------------------------------------------------------------

    def _soap(self, request):
        if request.method != "POST" or "xml" not in request.headers.get("Content-Type", ""):
            return 415, _fault("UNKNOWN_EXCEPTION", "SOAP wants text/xml"), {"Content-Type": "text/xml"}
        try:
            root = ElementTree.fromstring(request.body)  # noqa: S314 - our own client's requests
        except ElementTree.ParseError:
            return 500, _fault("INVALID_XML", "the request is not XML"), {"Content-Type": "text/xml"}
        session = root.find(f".//{{{PARTNER}}}SessionHeader/{{{PARTNER}}}sessionId")
        if session is None or (session.text or "") not in self._live_tokens:
            return (
                500,
                _fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader"),
                {"Content-Type": "text/xml"},
            )
        merge = root.find(f".//{{{PARTNER}}}merge")
        requests = merge.findall(f"{{{PARTNER}}}request") if merge is not None else []
        if not requests or len(requests) > MAX_MERGE_REQUESTS:
            return (
                500,
                _fault("INVALID_FIELD", "between 1 and 200 merge requests"),
                {"Content-Type": "text/xml"},
            )
        self.api_calls += 1
        results = [self._merge_one(r) for r in requests]
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
            f'xmlns="{PARTNER}"><soapenv:Body><mergeResponse>{"".join(results)}</mergeResponse>'
            "</soapenv:Body></soapenv:Envelope>"
        )
        return 200, body.encode(), {"Content-Type": "text/xml; charset=utf-8"}

    def _merge_one(self, request) -> str:
        master = request.find(f"{{{PARTNER}}}masterRecord")
        kind = master.findtext(f"{{{SOBJECT}}}type") if master is not None else None
        master_ref = master.findtext(f"{{{SOBJECT}}}Id") if master is not None else None
        victims = [(e.text or "").strip() for e in request.findall(f"{{{PARTNER}}}recordToMergeIds")]
        if kind != "Contact" or not master_ref or not 1 <= len(victims) <= 2:
            return _result(errors=[("INVALID_FIELD", "a Contact master and one or two records to merge")])
        master_id = self._resolve("Contact", master_ref)
        victim_ids = [self._resolve("Contact", v) for v in victims]
        for ref, found in [(master_ref, master_id), *zip(victims, victim_ids, strict=True)]:
            if found is None:
                code = "ENTITY_IS_DELETED" if ref in self.deleted else "INVALID_CROSS_REFERENCE_KEY"
                return _result(errors=[(code, f"{code}: {ref}")])
        if master_id in victim_ids:
            return _result(errors=[("INVALID_OPERATION", "cannot merge a record with itself")])
        moved = []
        for task_id, task in self.tasks.items():
            if task.get("WhoId") in victim_ids:
                task["WhoId"] = master_id
                moved.append(task_id)
        for victim in victim_ids:
            self._delete_record("Contact", victim, master=master_id)
            self.soap_merges.append((master_id, victim))
        return _result(record_id=master_id, merged=victim_ids, related=moved)


def _result(*, record_id=None, merged=(), related=(), errors=()) -> str:
    parts = ["<result>"]
    parts += [
        f"<errors><message>{escape(message)}</message><statusCode>{code}</statusCode></errors>"
        for code, message in errors
    ]
    parts.append(
        f"<id>{record_id}</id>"
        if record_id
        else '<id xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
    )
    parts += [f"<mergedRecordIds>{m}</mergedRecordIds>" for m in merged]
    parts.append(f"<success>{'false' if errors else 'true'}</success>")
    parts += [f"<updatedRelatedIds>{r}</updatedRelatedIds>" for r in related]
    parts.append("</result>")
    return "".join(parts)


def _fault(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()
