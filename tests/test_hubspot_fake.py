"""The fake HubSpot checks requests against HubSpot's published schema and answers like HubSpot's own
examples (no trace ids unless asked, results out of order, per-item errors with their own context),
so that it stops agreeing with our mistakes."""

import pytest
import requests

from tests.fakes.hubspot import FakeHubSpot

UPSERT = "/crm/v3/objects/contacts/batch/upsert"


@pytest.fixture
def hubspot():
    with FakeHubSpot(search_rate_limit=None, oauth_client=("cid", "secret", "refresh")) as fake:
        yield fake


def hs(fake, method, path, **kwargs):
    headers = {"Authorization": "Bearer hs-token"}
    return requests.request(method, fake.url + path, headers=headers, timeout=5, **kwargs)


def test_batch_results_carry_no_trace_id_unless_asked_and_come_back_out_of_order(hubspot):
    inputs = [
        {"idProperty": "email", "id": f"p{i}@example.com", "properties": {"firstname": f"P{i}"},
         "objectWriteTraceId": str(i)}
        for i in range(6)
    ]  # fmt: skip
    body = hs(hubspot, "POST", UPSERT, json={"inputs": inputs}).json()
    assert all("objectWriteTraceId" not in r for r in body["results"])
    emails = [r["properties"]["email"] for r in body["results"]]
    assert sorted(emails) == sorted(i["id"] for i in inputs) and emails != [i["id"] for i in inputs]


def test_blank_unknown_and_non_string_values_are_refused(hubspot):
    for properties, code in (
        ({"email": "a@example.com", "phone": ""}, "BLANK_VALUE"),
        ({"email": "a@example.com", "favourite_colour": "red"}, "PROPERTY_DOESNT_EXIST"),
        ({"email": "a@example.com", "firstname": None}, "INVALID_TYPE"),
        ({"email": "a@example.com", "hs_object_id": "5"}, "READ_ONLY_VALUE"),
    ):
        answer = hs(hubspot, "POST", "/crm/v3/objects/contacts", json={"properties": properties})
        assert answer.status_code == 400, properties
        assert answer.json()["errors"][0]["code"] == code
    assert hubspot.contacts == {}
    with FakeHubSpot(refuse_blank=False) as lenient:  # HubSpot itself clears the property
        assert hs(lenient, "POST", "/crm/v3/objects/contacts", json={"properties": {"phone": ""}}).ok


def test_batch_inputs_need_their_required_fields(hubspot):
    no_id = [{"idProperty": "email", "properties": {"firstname": "A"}}]
    assert hs(hubspot, "POST", UPSERT, json={"inputs": no_id}).status_code == 400
    no_properties = [{"id": "1"}]
    update = hs(hubspot, "POST", "/crm/v3/objects/contacts/batch/update", json={"inputs": no_properties})
    assert update.status_code == 400


def test_a_unique_custom_property_is_created_once_and_upserts_on_it(hubspot):
    definition = {"name": "coccinelle_id", "label": "Coccinelle id", "type": "string",
                  "fieldType": "text", "groupName": "contactinformation", "hasUniqueValue": True}  # fmt: skip
    missing = {k: v for k, v in definition.items() if k != "groupName"}
    assert hs(hubspot, "POST", "/crm/v3/properties/contacts", json=missing).status_code == 400
    assert hs(hubspot, "POST", "/crm/v3/properties/contacts", json=definition).status_code == 201
    again = hs(hubspot, "POST", "/crm/v3/properties/contacts", json=definition)
    assert again.status_code == 409
    got = hs(hubspot, "GET", "/crm/v3/properties/contacts/coccinelle_id").json()
    assert got["hasUniqueValue"] is True

    inputs = [{"idProperty": "coccinelle_id", "id": "7", "properties": {"firstname": "Léa"}}]
    first = hs(hubspot, "POST", UPSERT, json={"inputs": inputs}).json()["results"][0]
    second = hs(hubspot, "POST", UPSERT, json={"inputs": inputs}).json()["results"][0]
    assert first["new"] is True and second["new"] is False and first["id"] == second["id"]
    assert hubspot.contacts[first["id"]]["coccinelle_id"] == "7" and len(hubspot.contacts) == 1


def test_creating_a_property_needs_the_schema_scope(hubspot):
    hubspot.scopes.discard("crm.schemas.contacts.write")
    definition = {"name": "x_id", "label": "X", "type": "string", "fieldType": "text", "groupName": "g"}
    answer = hs(hubspot, "POST", "/crm/v3/properties/contacts", json=definition)
    assert answer.status_code == 403 and answer.json()["category"] == "MISSING_SCOPES"


def test_a_207_gives_each_error_its_own_context(hubspot):
    hubspot.add_property("coccinelle_id", unique=True)
    hubspot._store_contact({"email": "taken@example.com", "coccinelle_id": "1"})
    inputs = [
        {"idProperty": "email", "id": "ok@example.com", "properties": {"firstname": "Ok"}},
        {"idProperty": "email", "id": "bad@", "properties": {"firstname": "Bad"}},
        {"idProperty": "email", "id": "clash@example.com", "properties": {"coccinelle_id": "1"}},
    ]
    answer = hs(hubspot, "POST", UPSERT, json={"inputs": inputs})
    assert answer.status_code == 207
    errors = {e["context"]["ids"][0]: e for e in answer.json()["errors"]}
    assert set(errors) == {"bad@", "clash@example.com"}
    assert errors["clash@example.com"]["category"] == "CONFLICT"
    assert "coccinelle_id" in errors["clash@example.com"]["message"]
    assert [r["properties"]["email"] for r in answer.json()["results"]] == ["ok@example.com"]


def test_account_info_says_where_the_portal_lives():
    with FakeHubSpot(ui_domain="app-eu1.hubspot.com", portal_id=777) as fake:
        details = hs(fake, "GET", "/account-info/v3/details").json()
    assert details["uiDomain"] == "app-eu1.hubspot.com" and details["portalId"] == 777


def test_oauth_2026_03_refresh_and_revoke(hubspot):
    form = {"client_id": "cid", "client_secret": "secret"}
    refreshed = requests.post(
        hubspot.url + "/oauth/2026-03/token",
        data=dict(form, grant_type="refresh_token", refresh_token="refresh"),
        timeout=5,
    )
    assert refreshed.status_code == 200 and refreshed.json()["token_use"] == "access_token"
    revoke = hubspot.url + "/oauth/2026-03/token/revoke"
    bad = requests.post(revoke, data=dict(form, client_secret="x"), timeout=5)
    assert bad.status_code == 400 and hubspot.revoked == []
    revoked = requests.post(
        revoke,
        data=dict(form, token="refresh", token_type_hint="refresh_token"),
        timeout=5,
    )
    assert revoked.ok and hubspot.revoked == ["refresh"]
    again = requests.post(
        hubspot.url + "/oauth/2026-03/token",
        data=dict(form, grant_type="refresh_token", refresh_token="refresh"),
        timeout=5,
    )
    assert again.status_code == 400 and again.json()["status"] == "BAD_REFRESH_TOKEN"
