"""The fake Salesforce holds requests to the REST API Developer Guide's formats (issue 11, point 9), so
it stops agreeing with the connector's mistakes, and answers like the guide's own examples."""

import json
from pathlib import Path

import pytest
import requests

from tests.fakes.salesforce import FakeSalesforce

DATA = Path(__file__).parent / "data" / "salesforce"
UPSERT = "/composite/sobjects/Contact/Coccinelle_Id__c"


@pytest.fixture
def sf():
    """(fake, call): `call(method, path, **kwargs)` on /services/data/v67.0 with a live token."""
    with FakeSalesforce() as fake:
        form = {
            "grant_type": "refresh_token",
            "client_id": "sf-client",
            "client_secret": "sf-secret",
            "refresh_token": "sf-refresh",
        }
        token = requests.post(fake.url + "/services/oauth2/token", data=form, timeout=5).json()[
            "access_token"
        ]

        def call(method, path, **kwargs):
            headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
            url = f"{fake.url}/services/data/v67.0{path}"
            return requests.request(method, url, headers=headers, timeout=5, **kwargs)

        yield fake, call


def contact(ext, **fields):
    return {"attributes": {"type": "Contact"}, "Coccinelle_Id__c": ext, **fields}


def test_upsert_answers_like_the_guides_example(sf):
    fake, call = sf
    example = json.loads((DATA / "upsert_collection_response.json").read_text())["response"]
    call("PATCH", UPSERT, json={"allOrNone": False, "records": [contact("a", LastName="A")]})
    answer = call(
        "PATCH",
        UPSERT,
        json={"allOrNone": False, "records": [contact("a", FirstName="Ann"), contact("b", LastName="B")]},
    ).json()
    assert [set(r) for r in answer] == [set(r) for r in example]
    assert [r["created"] for r in answer] == [False, True]  # in request order, as documented
    assert all(r["success"] is True and r["errors"] == [] for r in answer)


@pytest.mark.parametrize("value", [None, ""])
def test_a_null_or_empty_field_is_refused_unless_allowed(sf, value):
    fake, call = sf
    call("PATCH", UPSERT, json={"allOrNone": False, "records": [contact("a", LastName="A", Phone="+331")]})
    refused = call("PATCH", UPSERT, json={"allOrNone": False, "records": [contact("a", Phone=value)]})
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "NULL_NOT_ALLOWED"
    assert refused.json()[0]["fields"] == ["Phone"]
    (stored,) = fake.contacts.values()
    assert stored["Phone"] == "+331"

    fake.allow_nulls = True  # then it behaves as Salesforce: the field is cleared
    cleared = call("PATCH", UPSERT, json={"allOrNone": False, "records": [contact("a", Phone=value)]})
    assert cleared.status_code == 200 and stored["Phone"] is None


def test_collections_are_checked_against_the_documented_shape(sf):
    fake, call = sf
    records = [contact("a", LastName="A")]
    extra = call("PATCH", UPSERT, json={"allOrNone": False, "records": records, "mode": "fast"})
    assert extra.status_code == 400 and extra.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    untyped = call("PATCH", UPSERT, json={"records": [{"Coccinelle_Id__c": "a", "LastName": "A"}]})
    assert untyped.status_code == 400 and untyped.json()[0]["errorCode"] == "INVALID_TYPE"
    with_id = call("PATCH", UPSERT, json={"records": [contact("a", LastName="A", Id="003000000000001AAA")]})
    assert with_id.status_code == 200 and with_id.json()[0]["errors"][0]["statusCode"] == "INVALID_FIELD"
    too_many = [contact(f"n{i}", LastName="N") for i in range(201)]
    refused = call("PATCH", UPSERT, json={"records": too_many})
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    not_json = call(
        "PATCH", UPSERT, data=json.dumps({"records": records}), headers={"Content-Type": "text/plain"}
    )
    assert not_json.status_code == 415
    assert fake.contacts == {}


def test_dates_and_datetimes_need_their_documented_formats(sf):
    fake, call = sf
    who = call("POST", "/sobjects/Contact/", json={"LastName": "T"}).json()["id"]
    task = {"attributes": {"type": "Task"}, "WhoId": who, "Subject": "SMS", "Status": "Completed"}
    for bad in ("2026-05-04T10:00:00Z", "04/05/2026", "2026-5-4"):
        answer = call("POST", "/composite/sobjects", json={"records": [dict(task, ActivityDate=bad)]})
        assert answer.status_code == 400, bad
    ok = call("POST", "/composite/sobjects", json={"records": [dict(task, ActivityDate="2026-05-04")]})
    assert ok.json()[0]["success"] is True
    stamp = call("PATCH", f"/sobjects/Task/{ok.json()[0]['id']}", json={"CreatedDate": "yesterday"})
    assert stamp.status_code == 400  # read-only fields are refused, whatever the value


def test_record_failures_are_per_record_with_status_code_message_fields(sf):
    fake, call = sf
    fake.fail_next_records("UNABLE_TO_LOCK_ROW")
    records = [contact("a", LastName="A"), contact("b", LastName="B"), contact("c", FirstName="C")]
    answer = call("PATCH", UPSERT, json={"allOrNone": False, "records": records}).json()
    assert answer[0] == {
        "success": False,
        "errors": [
            {"statusCode": "UNABLE_TO_LOCK_ROW", "message": "UNABLE_TO_LOCK_ROW (fake_failure)", "fields": []}
        ],
    }
    assert answer[1]["success"] is True and answer[1]["created"] is True
    assert answer[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert answer[2]["errors"][0]["fields"] == ["LastName"]
    assert len(fake.contacts) == 1


def test_revoking_the_refresh_token_ends_its_sessions(sf):
    fake, call = sf
    revoke = requests.post(fake.url + "/services/oauth2/revoke", data={"token": "sf-refresh"}, timeout=5)
    assert revoke.status_code == 200 and fake.revoked == ["sf-refresh"]
    assert call("GET", "/limits").status_code == 401
    form = {"grant_type": "refresh_token", "client_id": "sf-client", "client_secret": "sf-secret"}
    again = requests.post(
        fake.url + "/services/oauth2/token", data=form | {"refresh_token": "sf-refresh"}, timeout=5
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    unknown = requests.post(fake.url + "/services/oauth2/revoke", data={"token": "nope"}, timeout=5)
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_token"


def test_contacts_written_directly_are_found_by_external_id(sf):
    fake, call = sf
    fake.contacts["003000000000009AAA"] = {"LastName": "Seeded", "Coccinelle_Id__c": "s1"}
    answer = call("PATCH", UPSERT, json={"records": [contact("s1", FirstName="Now")]}).json()
    assert answer[0]["id"] == "003000000000009AAA" and answer[0]["created"] is False
