"""The HubSpot and Salesforce fakes enforce the contract (contracts.md) over real HTTP on loopback."""

import time
from urllib.parse import quote

import pytest
import requests

from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import FakeSalesforce

AUTH = {"Authorization": "Bearer hs-token"}
NOTE_TYPE = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]


@pytest.fixture
def hubspot():
    with FakeHubSpot(search_rate_limit=None) as fake:
        yield fake


def hs(fake, method, path, token="hs-token", **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, fake.url + path, headers=headers, timeout=5, **kwargs)


def create_contact(fake, email, **props):
    response = hs(fake, "POST", "/crm/v3/objects/contacts", json={"properties": {"email": email, **props}})
    assert response.status_code == 201, response.text
    return response.json()["id"]


# ---- HubSpot: auth -------------------------------------------------------------------------------


def test_hubspot_refuses_a_missing_or_wrong_token(hubspot):
    for token in (None, "wrong"):
        response = hs(hubspot, "GET", "/crm/v3/objects/contacts?limit=1", token=token)
        assert response.status_code == 401
        body = response.json()
        assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
        assert body["message"].startswith("Authentication credentials not found")
        assert body["correlationId"]
    assert hs(hubspot, "GET", "/crm/v3/objects/contacts?limit=1").status_code == 200
    details = hs(hubspot, "GET", "/account-info/v3/details")
    assert details.status_code == 200 and details.json()["portalId"] == 12345


def test_hubspot_oauth_refresh_issues_tokens_that_expire():
    with FakeHubSpot(oauth_client=("cid", "secret", "refresh"), token_ttl=60) as fake:
        form = {"grant_type": "refresh_token", "client_id": "cid", "client_secret": "secret"}
        bad = requests.post(fake.url + "/oauth/v1/token", data=dict(form, refresh_token="nope"), timeout=5)
        assert bad.status_code == 400 and bad.json()["status"] == "BAD_REFRESH_TOKEN"
        as_json = requests.post(
            fake.url + "/oauth/v3/token", json=dict(form, refresh_token="refresh"), timeout=5
        )
        assert as_json.status_code == 400  # form-encoded only

        for path in ("/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"):
            answer = requests.post(fake.url + path, data=dict(form, refresh_token="refresh"), timeout=5)
            assert answer.status_code == 200
            body = answer.json()
            assert body["expires_in"] == 60 and body["token_type"] == "bearer" and body["refresh_token"]
            assert hs(fake, "GET", "/crm/v3/objects/contacts?limit=1", token=body["access_token"]).ok

        token = body["access_token"]
        fake.advance(61)
        expired = hs(fake, "GET", "/crm/v3/objects/contacts?limit=1", token=token)
        assert expired.status_code == 401 and expired.json()["category"] == "EXPIRED_AUTHENTICATION"

        fresh = requests.post(
            fake.url + "/oauth/2026-03/token", data=dict(form, refresh_token="refresh"), timeout=5
        )
        assert fresh.json()["token_use"] == "access_token" and fresh.json()["hub_id"] == 12345
        fresh_token = fresh.json()["access_token"]
        assert hs(fake, "GET", "/crm/v3/objects/contacts?limit=1", token=fresh_token).ok
        fake.expire_tokens()
        expired = hs(fake, "GET", "/crm/v3/objects/contacts?limit=1", token=fresh_token)
        assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
        assert hs(fake, "GET", "/crm/v3/objects/contacts?limit=1").ok  # the static token never expires


# ---- HubSpot: rate limit and failures ------------------------------------------------------------


def test_hubspot_rate_limit_rolls_and_sends_headers():
    with FakeHubSpot(rate_limit=3, window_seconds=0.5) as fake:
        answers = [hs(fake, "GET", "/crm/v3/objects/contacts?limit=1") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-HubSpot-RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
        for answer in answers:
            assert answer.headers["X-HubSpot-RateLimit-Max"] == "3"
            assert answer.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "500"
        body = answers[3].json()
        assert body["status"] == "error" and body["errorType"] == "RATE_LIMIT"
        assert body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert fake.rate_limited_count == 1 and fake.max_requests_in_window == 4

        time.sleep(0.55)  # the window rolls: allowed again
        assert hs(fake, "GET", "/crm/v3/objects/contacts?limit=1").status_code == 200
        fake.advance(1)  # the fake clock rolls it too, without sleeping
        assert all(hs(fake, "GET", "/crm/v3/objects/contacts?limit=1").ok for _ in range(3))


def test_hubspot_search_has_its_own_per_second_limit():
    with FakeHubSpot(search_rate_limit=2) as fake:
        search = {"filterGroups": [], "limit": 1}
        codes = [
            hs(fake, "POST", "/crm/v3/objects/contacts/search", json=search).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        fake.advance(1.1)
        assert hs(fake, "POST", "/crm/v3/objects/contacts/search", json=search).status_code == 200


def test_hubspot_fail_next_serves_transient_errors(hubspot):
    hubspot.fail_next(500, count=2)
    hubspot.fail_next(429)
    answers = [hs(hubspot, "GET", "/crm/v3/objects/contacts?limit=1") for _ in range(4)]
    assert [a.status_code for a in answers] == [500, 500, 429, 200]
    assert answers[0].json()["status"] == "error"
    assert answers[2].json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert "X-HubSpot-RateLimit-Max" in answers[0].headers


# ---- HubSpot: contacts ---------------------------------------------------------------------------


def test_hubspot_contact_create_conflict_update_get(hubspot):
    contact_id = create_contact(hubspot, "Ada@Example.com", firstname="Ada")
    assert hubspot.contacts[contact_id] == {"email": "Ada@Example.com", "firstname": "Ada"}

    duplicate = hs(
        hubspot, "POST", "/crm/v3/objects/contacts", json={"properties": {"email": "ada@example.COM"}}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["message"] == f"Contact already exists. Existing ID: {contact_id}"
    assert duplicate.json()["category"] == "CONFLICT"

    invalid = hs(hubspot, "POST", "/crm/v3/objects/contacts", json={"properties": {"email": "not-an-email"}})
    assert invalid.status_code == 400 and invalid.json()["category"] == "VALIDATION_ERROR"

    patched = hs(
        hubspot, "PATCH", f"/crm/v3/objects/contacts/{contact_id}", json={"properties": {"phone": "+33"}}
    )
    assert patched.status_code == 200 and patched.json()["properties"]["phone"] == "+33"
    missing = hs(hubspot, "PATCH", "/crm/v3/objects/contacts/999999", json={"properties": {"phone": "1"}})
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"

    got = hs(hubspot, "GET", f"/crm/v3/objects/contacts/{contact_id}?properties=phone").json()
    assert got["id"] == contact_id and got["properties"]["phone"] == "+33"
    assert got["properties"]["hs_object_id"] == contact_id
    assert hs(hubspot, "GET", "/crm/v3/objects/contacts/424242").status_code == 404


def test_hubspot_refuses_bad_options(hubspot):
    bad = hs(hubspot, "POST", "/crm/v3/objects/contacts", json={"properties": {"hs_lead_status": "HOT"}})
    assert bad.status_code == 400 and bad.json()["category"] == "VALIDATION_ERROR"
    contact_id = create_contact(hubspot, "c@example.com", lifecyclestage="customer")
    backwards = {"properties": {"lifecyclestage": "lead"}}
    refused = hs(hubspot, "PATCH", f"/crm/v3/objects/contacts/{contact_id}", json=backwards)
    assert refused.status_code == 400


def test_hubspot_batch_create_shuffles_and_enforces_size_and_conflicts():
    with FakeHubSpot(max_batch=5, echo_trace_ids=True) as fake:
        inputs = [
            {"properties": {"email": f"p{i}@example.com"}, "objectWriteTraceId": f"t{i}"} for i in range(5)
        ]
        answer = hs(fake, "POST", "/crm/v3/objects/contacts/batch/create", json={"inputs": inputs})
        assert answer.status_code == 201
        body = answer.json()
        assert body["status"] == "COMPLETE" and body["startedAt"] and body["completedAt"]
        traces = [r["objectWriteTraceId"] for r in body["results"]]
        assert sorted(traces) == [f"t{i}" for i in range(5)] and traces != sorted(traces)
        for result in body["results"]:
            assert result["properties"]["email"] == f"p{result['objectWriteTraceId'][1:]}@example.com"
            assert result["archived"] is False and result["createdAt"]

        too_many = [{"properties": {"email": f"x{i}@example.com"}} for i in range(6)]
        refused = hs(fake, "POST", "/crm/v3/objects/contacts/batch/create", json={"inputs": too_many})
        assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR"

        existing = next(r["id"] for r in body["results"] if r["objectWriteTraceId"] == "t3")
        clash = [{"properties": {"email": "new@example.com"}}, {"properties": {"email": "P3@example.com"}}]
        conflict = hs(fake, "POST", "/crm/v3/objects/contacts/batch/create", json={"inputs": clash})
        assert conflict.status_code == 409
        assert conflict.json()["message"] == f"Contact already exists. Existing ID: {existing}"
        assert len(fake.contacts) == 5  # nothing of the refused batches was saved


def test_hubspot_batch_update_answers_207_for_unknown_ids(hubspot):
    known = create_contact(hubspot, "k@example.com")
    inputs = [
        {"id": known, "properties": {"firstname": "K"}, "objectWriteTraceId": "a"},
        {"id": "999999", "properties": {"firstname": "X"}, "objectWriteTraceId": "b"},
    ]
    answer = hs(hubspot, "POST", "/crm/v3/objects/contacts/batch/update", json={"inputs": inputs})
    assert answer.status_code == 207
    body = answer.json()
    assert [r["id"] for r in body["results"]] == [known] and body["numErrors"] == 1
    error = body["errors"][0]
    assert error["status"] == "error" and error["category"] == "OBJECT_NOT_FOUND"
    assert error["context"] == {"ids": ["999999"]}
    assert hubspot.contacts[known]["firstname"] == "K"
    good = hs(hubspot, "POST", "/crm/v3/objects/contacts/batch/update", json={"inputs": inputs[:1]})
    assert good.status_code == 200 and "errors" not in good.json()


def test_hubspot_batch_upsert_by_email(hubspot):
    hubspot.echo_trace_ids = True
    known = create_contact(hubspot, "old@example.com", firstname="Old")
    inputs = [
        {
            "idProperty": "email",
            "id": "OLD@example.com",
            "properties": {"firstname": "Renamed"},
            "objectWriteTraceId": "1",
        },
        {
            "idProperty": "email",
            "id": "new@example.com",
            "properties": {"firstname": "New"},
            "objectWriteTraceId": "2",
        },
    ]
    answer = hs(hubspot, "POST", "/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs})
    assert answer.status_code == 200
    results = {r["objectWriteTraceId"]: r for r in answer.json()["results"]}
    assert results["1"]["id"] == known and results["1"]["new"] is False
    assert results["2"]["new"] is True and hubspot.contacts[results["2"]["id"]]["email"] == "new@example.com"
    assert hubspot.contacts[known]["firstname"] == "Renamed"

    partial = inputs + [{"idProperty": "email", "id": "broken", "properties": {}, "objectWriteTraceId": "3"}]
    answer = hs(hubspot, "POST", "/crm/v3/objects/contacts/batch/upsert", json={"inputs": partial})
    assert answer.status_code == 207
    body = answer.json()
    assert len(body["results"]) == 2 and body["numErrors"] == 1
    assert body["errors"][0]["context"] == {"ids": ["broken"], "objectWriteTraceId": ["3"]}

    by_phone = [{"idProperty": "phone", "id": "+33612345678", "properties": {}}]
    refused = hs(hubspot, "POST", "/crm/v3/objects/contacts/batch/upsert", json={"inputs": by_phone})
    assert refused.status_code == 400 and "is not a unique property" in refused.json()["message"]

    by_id = [{"idProperty": "hs_object_id", "id": known, "properties": {"lastname": "L"}}]
    assert (
        hs(hubspot, "POST", "/crm/v3/objects/contacts/batch/upsert", json={"inputs": by_id}).status_code
        == 200
    )


def test_hubspot_search_and_list_pages(hubspot):
    ids = [create_contact(hubspot, f"s{i}@example.com", phone=f"+3361234567{i}") for i in range(5)]
    search = {
        "filterGroups": [
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": "S3@example.com"}]}
        ],
        "properties": ["email", "phone"],
        "limit": 10,
    }
    found = hs(hubspot, "POST", "/crm/v3/objects/contacts/search", json=search).json()
    assert found["total"] == 1 and found["results"][0]["id"] == ids[3]
    assert found["results"][0]["properties"]["phone"] == "+33612345673"
    too_big = hs(hubspot, "POST", "/crm/v3/objects/contacts/search", json=dict(search, limit=201))
    assert too_big.status_code == 400

    seen, after = [], None
    while True:
        params = {"limit": 2, "properties": "email"} | ({"after": after} if after else {})
        page = hs(hubspot, "GET", "/crm/v3/objects/contacts", params=params).json()
        seen += [r["id"] for r in page["results"]]
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
    assert seen == ids


def test_hubspot_notes_need_timestamp_and_a_real_contact(hubspot):
    contact_id = create_contact(hubspot, "n@example.com")
    good = {
        "properties": {"hs_timestamp": "2026-05-01T10:00:00Z", "hs_note_body": "hello"},
        "associations": [{"to": {"id": contact_id}, "types": NOTE_TYPE}],
    }
    answer = hs(hubspot, "POST", "/crm/v3/objects/notes", json=good)
    assert answer.status_code == 201
    note = hubspot.notes[answer.json()["id"]]
    assert note["properties"]["hs_note_body"] == "hello" and note["associations"][0]["to"]["id"] == contact_id

    bad_notes = [
        {"properties": {"hs_note_body": "no timestamp"}},
        {"properties": {"hs_timestamp": "yesterday"}},
        {"properties": {"hs_timestamp": "2026-05-04T09:30:15.123456+00:00", "hs_note_body": "local time"}},
        {"properties": {"hs_timestamp": "2026-05-04T09:30:15.123Z", "hs_note_body": ""}},
        {"properties": {"hs_timestamp": "1714557600000", "hs_note_body": "x" * 65_537}},
        dict(good, associations=[{"to": {"id": "999999"}, "types": NOTE_TYPE}]),
        dict(
            good,
            associations=[{"to": {"id": contact_id}, "types": [dict(NOTE_TYPE[0], associationTypeId=1)]}],
        ),
    ]
    for bad in bad_notes:
        refused = hs(hubspot, "POST", "/crm/v3/objects/notes", json=bad)
        assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR", bad

    inputs = [dict(good, objectWriteTraceId=f"n{i}") for i in range(4)]
    hubspot.echo_trace_ids = True
    batch = hs(hubspot, "POST", "/crm/v3/objects/notes/batch/create", json={"inputs": inputs})
    assert batch.status_code == 201
    traces = [r["objectWriteTraceId"] for r in batch.json()["results"]]
    assert sorted(traces) == ["n0", "n1", "n2", "n3"] and traces != sorted(traces)
    too_many = hs(hubspot, "POST", "/crm/v3/objects/notes/batch/create", json={"inputs": [good] * 101})
    assert too_many.status_code == 400
    assert len(hubspot.notes) == 5


# ---- Salesforce ----------------------------------------------------------------------------------


@pytest.fixture
def salesforce():
    with FakeSalesforce() as fake:
        yield fake


def sf_token(fake, **form):
    form = {"grant_type": "refresh_token", "client_id": "sf-client", "client_secret": "sf-secret"} | form
    form.setdefault("refresh_token", "sf-refresh")
    return requests.post(fake.url + "/services/oauth2/token", data=form, timeout=5)


@pytest.fixture
def sf(salesforce):
    """(fake, call): `call(method, path, **kwargs)` on /services/data/v67.0 with a live token."""
    token = sf_token(salesforce).json()["access_token"]

    def call(method, path, **kwargs):
        headers = {"Authorization": f"Bearer {token}"}
        return requests.request(
            method, f"{salesforce.url}/services/data/v67.0{path}", headers=headers, timeout=5, **kwargs
        )

    return salesforce, call


def test_salesforce_token_grants(salesforce):
    body = sf_token(salesforce).json()
    assert body["instance_url"] == salesforce.url and body["token_type"] == "Bearer"
    assert {"access_token", "id", "issued_at", "signature"} <= set(body)
    assert sf_token(salesforce, grant_type="client_credentials").status_code == 200

    wrong_refresh = sf_token(salesforce, refresh_token="nope")
    assert wrong_refresh.status_code == 400 and wrong_refresh.json()["error"] == "invalid_grant"
    wrong_secret = sf_token(salesforce, client_secret="nope")
    assert wrong_secret.status_code == 400 and wrong_secret.json()["error"] == "invalid_client"
    as_json = requests.post(
        salesforce.url + "/services/oauth2/token",
        json={"grant_type": "refresh_token", "client_id": "sf-client", "client_secret": "sf-secret"},
        timeout=5,
    )
    assert as_json.status_code == 400  # form-encoded only
    no_jwt = sf_token(salesforce, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion="x")
    assert no_jwt.status_code == 400 and no_jwt.json()["error"] == "invalid_grant"
    assert salesforce.token_grants == ["refresh_token", "client_credentials"]


def test_salesforce_jwt_bearer():
    pytest.importorskip("cryptography", reason="RS256 needs the cryptography package (not installed)")
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with FakeSalesforce(jwt_public_key_pem=public) as fake:

        def grant(**claims):
            claims = {
                "iss": "sf-client",
                "sub": "owner@example.com",
                "aud": fake.url,
                "exp": int(time.time()) + 120,
            } | claims
            assertion = jwt.encode(claims, key, algorithm="RS256")
            form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
            return requests.post(fake.url + "/services/oauth2/token", data=form, timeout=5)

        assert grant().status_code == 200
        assert grant(aud="https://login.salesforce.com").status_code == 200
        for bad in (
            {"iss": "other"},
            {"sub": "else@example.com"},
            {"aud": "https://evil"},
            {"exp": int(time.time()) - 5},
        ):
            answer = grant(**bad)
            assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant", bad


def test_salesforce_requires_a_live_token_and_counts_calls(sf):
    fake, call = sf
    versions = requests.get(fake.url + "/services/data/", timeout=5).json()
    assert versions == [{"label": "Summer '26", "url": "/services/data/v67.0", "version": "67.0"}]

    unauthorized = requests.get(fake.url + "/services/data/v67.0/limits", timeout=5)
    assert unauthorized.status_code == 401
    assert unauthorized.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]

    limits = call("GET", "/limits")
    assert limits.status_code == 200 and limits.json()["DailyApiRequests"]["Max"] == 100_000
    assert limits.headers["Sforce-Limit-Info"] == "api-usage=1/100000"

    other = requests.get(fake.url + "/services/data/v58.0/limits", headers=limits.request.headers, timeout=5)
    assert other.status_code == 404 and other.json()[0]["errorCode"] == "NOT_FOUND"

    fake.daily_limit = 2
    assert call("GET", "/limits").status_code == 200
    spent = call("GET", "/limits")
    assert spent.status_code == 403 and spent.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert spent.headers["Sforce-Limit-Info"] == "api-usage=2/2"

    fake.daily_limit = 100
    fake.fail_next(503, count=2)
    assert [call("GET", "/limits").status_code for _ in range(3)] == [503, 503, 200]

    fake.expire_tokens()
    assert call("GET", "/limits").status_code == 401


def test_salesforce_describe_and_create_contact(sf):
    fake, call = sf
    fields = {f["name"]: f for f in call("GET", "/sobjects/Contact/describe").json()["fields"]}
    assert fields["Coccinelle_Id__c"]["externalId"] is True and fields["Coccinelle_Id__c"]["unique"] is True

    created = call("POST", "/sobjects/Contact/", json={"LastName": "Lovelace", "Email": "ada@example.com"})
    assert created.status_code == 201
    body = created.json()
    assert (
        body["success"] is True
        and body["errors"] == []
        and len(body["id"]) == 18
        and body["id"].startswith("003")
    )
    assert fake.contacts[body["id"]] == {"LastName": "Lovelace", "Email": "ada@example.com"}

    missing = call("POST", "/sobjects/Contact/", json={"FirstName": "Ada"})
    assert missing.status_code == 400
    assert missing.json() == [
        {
            "message": "Required fields are missing: [LastName]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["LastName"],
        }
    ]
    unknown = call("POST", "/sobjects/Contact/", json={"LastName": "X", "Nickname__c": "x"})
    assert unknown.status_code == 400 and unknown.json()[0]["errorCode"] == "INVALID_FIELD"
    too_long = call("POST", "/sobjects/Contact/", json={"LastName": "X" * 81})
    assert too_long.json()[0]["errorCode"] == "STRING_TOO_LONG"


def test_salesforce_upsert_by_external_id(sf):
    fake, call = sf
    first = call(
        "PATCH", "/sobjects/Contact/Coccinelle_Id__c/" + quote("c/1", safe=""), json={"LastName": "One"}
    )
    assert first.status_code == 201 and first.json()["created"] is True
    again = call("PATCH", "/sobjects/Contact/Coccinelle_Id__c/c%2F1", json={"Phone": "+33612345678"})
    assert again.status_code == 200 and again.json() == {
        "id": first.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    assert fake.contacts[first.json()["id"]] == {
        "LastName": "One",
        "Coccinelle_Id__c": "c/1",
        "Phone": "+33612345678",
    }
    not_external = call("PATCH", "/sobjects/Contact/Email/a@example.com", json={"LastName": "X"})
    assert not_external.status_code == 404 and not_external.json()[0]["errorCode"] == "NOT_FOUND"


def test_salesforce_composite_upsert_per_record_results(sf):
    fake, call = sf
    call("PATCH", "/sobjects/Contact/Coccinelle_Id__c/old", json={"LastName": "Old"})
    records = [
        {"attributes": {"type": "Contact"}, "Coccinelle_Id__c": "old", "FirstName": "Updated"},
        {"attributes": {"type": "Contact"}, "Coccinelle_Id__c": "new", "LastName": "New"},
        {"attributes": {"type": "Contact"}, "Coccinelle_Id__c": "nameless", "FirstName": "No last name"},
    ]
    answer = call(
        "PATCH", "/composite/sobjects/Contact/Coccinelle_Id__c", json={"allOrNone": False, "records": records}
    )
    assert answer.status_code == 200
    results = answer.json()
    assert [r["success"] for r in results] == [True, True, False]
    assert results[0]["created"] is False and results[1]["created"] is True
    assert results[2]["errors"] == [
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [LastName]",
            "fields": ["LastName"],
        }
    ]
    assert len(fake.contacts) == 2

    records[2]["Coccinelle_Id__c"] = "nameless-2"
    rolled = call(
        "PATCH", "/composite/sobjects/Contact/Coccinelle_Id__c", json={"allOrNone": True, "records": records}
    )
    assert [r["success"] for r in rolled.json()] == [False, False, False]
    assert rolled.json()[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert len(fake.contacts) == 2

    too_many = [dict(records[1], Coccinelle_Id__c=f"n{i}") for i in range(201)]
    refused = call(
        "PATCH",
        "/composite/sobjects/Contact/Coccinelle_Id__c",
        json={"allOrNone": False, "records": too_many},
    )
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    wrong_field = call(
        "PATCH", "/composite/sobjects/Contact/Email", json={"allOrNone": False, "records": records}
    )
    assert wrong_field.status_code == 400 and wrong_field.json()[0]["errorCode"] == "INVALID_FIELD"


def test_salesforce_tasks(sf):
    fake, call = sf
    contact_id = call("POST", "/sobjects/Contact/", json={"LastName": "T"}).json()["id"]
    task = {
        "attributes": {"type": "Task"},
        "WhoId": contact_id,
        "Subject": "SMS",
        "Description": "hello",
        "ActivityDate": "2026-05-01",
        "Status": "Completed",
        "TaskSubtype": "Task",
        "Priority": "Normal",
    }
    records = [
        task,
        dict(task, WhoId="003000000000000AAA"),
        dict(task, Subject="s" * 256),
        dict(task, Status="Done"),
    ]
    answer = call("POST", "/composite/sobjects", json={"allOrNone": False, "records": records})
    assert answer.status_code == 200
    results = answer.json()
    assert (
        results[0]["success"] is True and results[0]["id"].startswith("00T") and len(results[0]["id"]) == 18
    )
    codes = [r["errors"][0]["statusCode"] for r in results[1:]]
    assert codes == [
        "INVALID_CROSS_REFERENCE_KEY",
        "STRING_TOO_LONG",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    ]
    assert fake.tasks[results[0]["id"]]["WhoId"] == contact_id

    bad_date = call("POST", "/composite/sobjects", json={"records": [dict(task, ActivityDate="01/05/2026")]})
    assert bad_date.status_code == 400
    single = call("POST", "/sobjects/Task", json={k: v for k, v in task.items() if k != "attributes"})
    assert single.status_code == 201 and len(fake.tasks) == 2


def test_salesforce_soql_escaping_and_malformed_queries(sf):
    fake, call = sf
    call(
        "PATCH",
        "/sobjects/Contact/Coccinelle_Id__c/x1",
        json={"LastName": "O'Brien", "Email": "ob@example.com"},
    )
    call("PATCH", "/sobjects/Contact/Coccinelle_Id__c/x2", json={"LastName": 'Back\\slash "q"'})
    select = "SELECT Id, FirstName, LastName, Email, Phone, MobilePhone, Coccinelle_Id__c FROM Contact"

    escaped = call("GET", "/query", params={"q": f"{select} WHERE LastName = 'o\\'brien' LIMIT 1"}).json()
    assert escaped["totalSize"] == 1 and escaped["done"] is True
    record = escaped["records"][0]
    assert record["LastName"] == "O'Brien" and record["Coccinelle_Id__c"] == "x1"
    assert record["attributes"]["type"] == "Contact"

    tricky = call(
        "GET", "/query", params={"q": f"{select} WHERE LastName = 'Back\\\\slash \\\"q\\\"'"}
    ).json()
    assert tricky["totalSize"] == 1
    assert fake.queries[-1].endswith("WHERE LastName = 'Back\\\\slash \\\"q\\\"'")

    for broken in (
        f"{select} WHERE LastName = 'O'Brien'",
        f"{select} WHERE LastName = 'unterminated",
        f"{select} WHERE LastName = 'bad \\x escape'",
        f"{select} WHERE LastName = 'raw\nnewline'",
    ):
        answer = call("GET", "/query", params={"q": broken})
        assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "MALFORMED_QUERY", broken
    injected = call("GET", "/query", params={"q": f"{select} WHERE Email = '' OR LastName != ''"}).json()
    assert injected["totalSize"] == 2  # what an unescaped quote would do: the test asserts on fake.queries
    unknown = call("GET", "/query", params={"q": "SELECT Nope FROM Contact"})
    assert unknown.status_code == 400 and unknown.json()[0]["errorCode"] == "INVALID_FIELD"


def test_salesforce_query_pages(sf):
    fake, call = sf
    records = [
        {"attributes": {"type": "Contact"}, "Coccinelle_Id__c": f"p{i}", "LastName": f"P{i}"}
        for i in range(5)
    ]
    call(
        "PATCH", "/composite/sobjects/Contact/Coccinelle_Id__c", json={"allOrNone": True, "records": records}
    )
    fake.query_page_size = 2
    page = call("GET", "/query", params={"q": "SELECT Id, LastName FROM Contact"}).json()
    names = [r["LastName"] for r in page["records"]]
    assert page["totalSize"] == 5 and page["done"] is False
    while not page["done"]:
        next_url = page["nextRecordsUrl"]
        assert next_url.startswith("/services/data/v67.0/query/")
        token = sf_token(fake).json()["access_token"]
        page = requests.get(
            fake.url + next_url, headers={"Authorization": f"Bearer {token}"}, timeout=5
        ).json()
        names += [r["LastName"] for r in page["records"]]
    assert names == [f"P{i}" for i in range(5)]


def test_both_fakes_are_thread_safe():
    from concurrent.futures import ThreadPoolExecutor

    with FakeHubSpot(rate_limit=1000) as fake:
        with ThreadPoolExecutor(max_workers=10) as pool:
            ids = list(pool.map(lambda i: create_contact(fake, f"t{i}@example.com"), range(40)))
        assert len(set(ids)) == 40 and len(fake.contacts) == 40
        assert fake.max_requests_in_window == 40 and fake.rate_limited_count == 0

    with FakeSalesforce() as fake:
        token = sf_token(fake).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        def upsert(i):
            url = f"{fake.url}/services/data/v67.0/sobjects/Contact/Coccinelle_Id__c/k{i % 10}"
            return requests.patch(url, json={"LastName": "L"}, headers=headers, timeout=5).status_code

        with ThreadPoolExecutor(max_workers=10) as pool:
            codes = list(pool.map(upsert, range(40)))
        assert codes.count(201) == 10 and codes.count(200) == 30 and len(fake.contacts) == 10
        assert fake.api_calls == 40
