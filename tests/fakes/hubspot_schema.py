"""What the fake HubSpot checks in a request, from HubSpot's published OpenAPI specs.

Source: github.com/HubSpot/HubSpot-public-api-spec-collection (public specs published by HubSpot),
`PublicApiSpecs/CRM/Contacts/Rollouts/424/v3/contacts.json`, `CRM/Notes/Rollouts/424/v3/notes.json`,
`Auth/Oauth/Rollouts/279897/2026-03/oauth.json`; HubSpot's docs on property values and notes. Only
facts and schemas are used here (required fields, value types), no code.

- Batch inputs: `SimplePublicObjectBatchInput` and `...BatchInputUpsert` require `id` and `properties`;
  `...BatchInputForCreate` requires `properties`. Property values are strings
  (`additionalProperties: {type: string}`); `objectWriteTraceId` is an optional string.
- A property sent as "" clears it (the docs say so): the fake refuses it unless told otherwise, because
  Coccinelle promises never to blank what sales typed in HubSpot.
- A property the portal does not have is a 400 (`PROPERTY_DOESNT_EXIST`).
- Notes: `hs_timestamp` is required, `YYYY-MM-DDThh:mm:ss.sssZ` in UTC or epoch milliseconds.
- Property definitions (`POST /crm/v3/properties/contacts`) require `name`, `label`, `type`,
  `fieldType`, `groupName`; `hasUniqueValue` makes the property usable as an upsert `idProperty`.
"""

import json
import re
import uuid

LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
# The default contact properties a portal has (a subset: the ones anything here reads or writes).
STANDARD_CONTACT_PROPERTIES = {
    name: {"name": name, "type": "string", "hasUniqueValue": name in ("email", "hs_object_id")}
    for name in (
        "email",
        "firstname",
        "lastname",
        "phone",
        "mobilephone",
        "hs_whatsapp_phone_number",
        "hs_lead_status",
        "lifecyclestage",
        "hs_language",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
        "company",
        "city",
    )
}
READ_ONLY = {"hs_object_id", "createdate", "lastmodifieddate"}
PROPERTY_REQUIRED = ("name", "label", "type", "fieldType", "groupName")
SCHEMA_WRITE_SCOPE = "crm.schemas.contacts.write"

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z")
_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")


class Reject(Exception):
    """An answer decided deep inside a handler: (status, body)."""

    def __init__(self, status: int, body: dict):
        super().__init__(body.get("message"))
        self.status, self.body = status, body


def error(status: int, message: str, category: str, **extra) -> tuple[int, dict]:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
    body.update(extra)
    return status, body


def invalid(message: str) -> Reject:
    return Reject(*error(400, message, "VALIDATION_ERROR"))


def invalid_properties(problems: list[dict]) -> Reject:
    return Reject(
        *error(
            400,
            "Property values were not valid: " + json.dumps(problems, separators=(",", ":")),
            "VALIDATION_ERROR",
            errors=[
                {"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}}
                for p in problems
            ],
        )
    )


def problem(name: str, message: str, code: str) -> dict:
    return {"isValid": False, "message": message, "error": code, "name": name}


def timestamp_ok(value: str) -> bool:
    """HubSpot's documented forms: epoch milliseconds, or ISO 8601 in UTC with a `Z`."""
    return value.isdigit() or bool(_TIMESTAMP.fullmatch(value))


def string_values(properties, *, refuse_blank: bool, known: dict | None = None) -> dict:
    """The properties of one input, checked as the schema types them: an object of strings, each a
    property the portal has, never "" (unless the fake is told clearing is expected)."""
    if not isinstance(properties, dict):
        raise invalid("Invalid input JSON: properties must be an object of strings")
    problems = []
    for name, value in properties.items():
        if not isinstance(value, str):
            problems.append(problem(name, f"{name}: a property value is a string", "INVALID_TYPE"))
        elif value == "" and refuse_blank:
            problems.append(
                problem(
                    name, f'{name}: "" clears the property in HubSpot; omit unknown values', "BLANK_VALUE"
                )
            )
        elif known is not None and name not in known:
            problems.append(problem(name, f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST"))
        elif name in READ_ONLY:
            problems.append(problem(name, f"{name} is a read only property", "READ_ONLY_VALUE"))
    if problems:
        raise invalid_properties(problems)
    return dict(properties)


def batch_inputs(body, *, need_id: bool, max_size: int) -> list[dict]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise invalid("Invalid input JSON: inputs must be a list of objects")
    if len(inputs) > max_size:
        raise Reject(
            *error(
                400,
                f"Batch input size of {len(inputs)} exceeds the limit of {max_size}",
                "VALIDATION_ERROR",
                context={"maxInputs": [str(max_size)]},
            )
        )
    for item in inputs:
        if "properties" not in item:
            raise invalid("Invalid input JSON: each input requires properties")
        if need_id and not (isinstance(item.get("id"), str) and item["id"]):
            raise invalid("Invalid input JSON: each input requires an id (a string)")
        trace = item.get("objectWriteTraceId")
        if trace is not None and not isinstance(trace, str):
            raise invalid("Invalid input JSON: objectWriteTraceId is a string")
    return inputs


def property_definition(body) -> dict:
    missing = [name for name in PROPERTY_REQUIRED if not body.get(name)]
    if missing:
        raise invalid(f"Invalid input JSON: missing required fields {missing}")
    if not _PROPERTY_NAME.fullmatch(str(body["name"])):
        raise invalid(f"{body['name']} is not a valid property name")
    if body["type"] == "string" and body["fieldType"] not in ("text", "textarea", "phonenumber", "html"):
        raise invalid(f"fieldType {body['fieldType']} does not fit a string property")
    return {
        "name": body["name"],
        "label": body["label"],
        "type": body["type"],
        "fieldType": body["fieldType"],
        "groupName": body["groupName"],
        "hasUniqueValue": bool(body.get("hasUniqueValue")),
    }
