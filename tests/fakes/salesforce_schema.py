"""The fake Salesforce's schema (tests/fakes/salesforce.py): the Contact and Task fields it knows,
their types and lengths, restricted picklists, `describe`, and the per-field checks a write goes through
(unknown field: INVALID_FIELD; read-only, too long, required LastName, e-mail format, picklist values,
a Task's WhoId pointing at a contact; dates `YYYY-MM-DD`; null or "" refused unless `allow_nulls`).
"""

import re
from datetime import date

from tests.fakes.salesforce_soql import _Reject

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$")
_VERSION = re.compile(r"^v\d+\.\d+$")

# name: (type, length, createable)
_CONTACT_FIELDS = {
    "Id": ("id", 18, False),
    "FirstName": ("string", 40, True),
    "LastName": ("string", 80, True),
    "Email": ("email", 80, True),
    "Phone": ("phone", 40, True),
    "MobilePhone": ("phone", 40, True),
    "Description": ("textarea", 32000, True),
    "Title": ("string", 128, True),
    "LeadSource": ("picklist", 255, True),
    "HasOptedOutOfEmail": ("boolean", 0, True),
    "MailingCity": ("string", 40, True),
    "MailingCountry": ("string", 80, True),
    "AccountId": ("reference", 18, True),
    "OwnerId": ("reference", 18, True),
    "CreatedDate": ("datetime", 0, False),
    "LastModifiedDate": ("datetime", 0, False),
}
_TASK_FIELDS = {
    "Id": ("id", 18, False),
    "WhoId": ("reference", 18, True),
    "WhatId": ("reference", 18, True),
    "Subject": ("combobox", 255, True),
    "Description": ("textarea", 32000, True),
    "ActivityDate": ("date", 0, True),
    "Status": ("picklist", 255, True),
    "Priority": ("picklist", 40, True),
    "TaskSubtype": ("picklist", 40, True),
    "Type": ("picklist", 40, True),
    "CallType": ("picklist", 40, True),
    "CallDurationInSeconds": ("int", 0, True),
    "OwnerId": ("reference", 18, True),
    "CreatedDate": ("datetime", 0, False),
    "LastModifiedDate": ("datetime", 0, False),
}
_RESTRICTED = {
    ("Task", "Status"): ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
    ("Task", "Priority"): ("High", "Normal", "Low"),
    ("Task", "TaskSubtype"): ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
    ("Task", "CallType"): ("Internal", "Inbound", "Outbound"),
}
_DEFAULTS = {"Task": {"Status": "Not Started", "Priority": "Normal", "TaskSubtype": "Task"}}
_PREFIX = {"Contact": "003", "Task": "00T"}


def _record_error(code: str, message: str, fields=()) -> dict:
    return {"statusCode": code, "message": message, "fields": list(fields)}


class SchemaMixin:
    def _describe(self, sobject: str) -> dict:
        fields = []
        for name, (kind, length, createable) in self._fields[sobject].items():
            field = {
                "name": name,
                "label": name.removesuffix("__c").replace("_", " "),
                "type": kind,
                "length": length,
                "createable": createable,
                "updateable": createable,
                "nillable": not (name in ("Id", "LastName") or kind == "boolean"),
                "externalId": name == self.external_id_field and sobject == "Contact",
                "unique": name == self.external_id_field and sobject == "Contact",
                "idLookup": name == "Id" or name == self.external_id_field or name == "Email",
                "custom": name.endswith("__c"),
            }
            picklist = _RESTRICTED.get((sobject, name))
            if picklist:
                field["restrictedPicklist"] = True
                field["picklistValues"] = [{"value": v, "label": v, "active": True} for v in picklist]
            fields.append(field)
        return {
            "name": sobject,
            "label": sobject,
            "keyPrefix": _PREFIX[sobject],
            "createable": True,
            "updateable": True,
            "queryable": True,
            "fields": fields,
            "urls": {"sobject": f"/services/data/{self.api_version}/sobjects/{sobject}"},
        }

    def _canonical(self, sobject: str, name: str) -> str | None:
        lowered = name.lower()
        return next((f for f in self._fields[sobject] if f.lower() == lowered), None)

    def _check(self, sobject: str, record, creating: bool, record_id: str | None = None):
        """(clean fields, per-record errors); an unknown field or a bad value type rejects the request."""
        if not isinstance(record, dict):
            raise _Reject(400, "JSON_PARSER_ERROR", "Expected a JSON object for the record")
        clean, errors = {}, []
        for raw_name, value in record.items():
            if raw_name == "attributes":
                continue
            name = self._canonical(sobject, raw_name)
            if name is None:
                raise _Reject(
                    400, "INVALID_FIELD", f"No such column '{raw_name}' on sobject of type {sobject}"
                )
            kind, length, createable = self._fields[sobject][name]
            if not createable:
                errors.append(
                    _record_error(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        f"Unable to create/update fields: {name}. Please check the security settings of this "
                        "field and verify that it is read/write for your profile or permission set.",
                        [name],
                    )
                )
                continue
            clean[name] = self._coerce(sobject, name, kind, value)
        if creating:
            for name, default in _DEFAULTS.get(sobject, {}).items():
                clean.setdefault(name, default)
        current = self._tables[sobject].get(record_id, {}) if record_id else {}
        errors.extend(self._field_errors(sobject, clean, creating, current, record_id))
        return clean, errors

    def _coerce(self, sobject: str, name: str, kind: str, value):
        if value is None or value == "":
            if not self.allow_nulls:
                raise _Reject(
                    400,
                    "NULL_NOT_ALLOWED",
                    f"{sobject}.{name} sent as {value!r}: Salesforce would clear it; omit unknown fields",
                    [name],
                )
            return None
        if isinstance(value, dict | list):
            raise _Reject(
                400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of {kind} from {type(value).__name__}"
            )
        if kind == "boolean":
            if not isinstance(value, bool):
                raise _Reject(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of boolean: {value!r}")
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _Reject(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of int: {value!r}")
            return value
        value = (
            value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        )
        if kind == "date":
            try:
                if not _DATE.match(value):
                    raise ValueError(value)
                date.fromisoformat(value)
            except ValueError as exc:
                raise _Reject(
                    400,
                    "JSON_PARSER_ERROR",
                    f"Cannot deserialize instance of date from VALUE_STRING value {value} or request may be "
                    f"missing a required field (expected YYYY-MM-DD) at [{sobject}.{name}]",
                ) from exc
        if kind == "datetime" and not _DATETIME.match(value):
            raise _Reject(
                400,
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of datetime from VALUE_STRING value {value} "
                f"at [{sobject}.{name}]",
            )
        return value

    def _field_errors(self, sobject, clean, creating, current, record_id) -> list[dict]:
        errors = []
        if sobject == "Contact":
            last = clean["LastName"] if "LastName" in clean else current.get("LastName")
            if (creating or "LastName" in clean) and not last:
                errors.append(
                    _record_error(
                        "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ["LastName"]
                    )
                )
            email = clean.get("Email")
            if email and not _EMAIL.match(email):
                errors.append(
                    _record_error(
                        "INVALID_EMAIL_ADDRESS", f"Email: invalid email address: {email}", ["Email"]
                    )
                )
            ext = clean.get(self.external_id_field)
            if ext:
                other = self._find_external(ext)
                if other and other[0] != record_id:
                    errors.append(
                        _record_error(
                            "DUPLICATE_VALUE",
                            f"duplicate value found: {self.external_id_field} duplicates value on record "
                            f"with id: {other[0]}",
                            [self.external_id_field],
                        )
                    )
        for name, value in clean.items():
            kind, length, _ = self._fields[sobject][name]
            if isinstance(value, str) and length and len(value) > length:
                errors.append(
                    _record_error(
                        "STRING_TOO_LONG",
                        f"{name}: data value too large: {value[:20]}... (max length={length})",
                        [name],
                    )
                )
            allowed = _RESTRICTED.get((sobject, name))
            if allowed and value is not None and value not in allowed:
                errors.append(
                    _record_error(
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        f"{name}: bad value for restricted picklist field: {value}",
                        [name],
                    )
                )
            if kind == "reference" and value and name == "WhoId" and self._resolve("Contact", value) is None:
                errors.append(
                    _record_error(
                        "INVALID_CROSS_REFERENCE_KEY", f"{name}: id value of incorrect type: {value}", [name]
                    )
                )
        return errors
