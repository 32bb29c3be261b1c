"""Matching HubSpot batch answers to inputs: HubSpot's own example shapes (results without trace ids,
in any order; errors carrying their own `context`), never an error given to every failed input.

Shapes from HubSpot's published spec (github.com/HubSpot/HubSpot-public-api-spec-collection,
PublicApiSpecs/CRM/Contacts/Rollouts/424/v3/contacts.json: BatchResponseSimplePublicUpsertObject,
StandardError); values are made up."""

from datetime import UTC, datetime, timedelta, timezone

from crm_backends.hubspot_results import Sent, hs_timestamp, match


def upserts(*emails):
    return [
        Sent(n, {"idProperty": "email", "id": e, "properties": {"email": e}}, ("email", e))
        for n, e in enumerate(emails, start=1)
    ]


def test_results_without_trace_ids_match_by_the_identity_written():
    sent = upserts("a@example.com", "B@example.com")
    body = {
        "status": "COMPLETE",
        "results": [
            {"id": "902", "new": True, "properties": {"email": "b@example.com"}},
            {"id": "901", "new": False, "properties": {"email": "a@example.com"}},
        ],
    }
    assert match(sent, body).written == {1: "901", 2: "902"}


def test_each_error_goes_to_the_input_its_context_names():
    sent = upserts("a@example.com", "b@example.com", "c@example.com")
    body = {
        "status": "COMPLETE",
        "results": [{"id": "901", "properties": {"email": "a@example.com"}}],
        "numErrors": 2,
        "errors": [
            {"status": "error", "category": "VALIDATION_ERROR", "message": "bad phone",
             "context": {"ids": ["c@example.com"]}},
            {"status": "error", "category": "CONFLICT", "message": "taken",
             "context": {"emails": ["B@example.com"]}},
        ],
    }  # fmt: skip
    found = match(sent, body)
    assert found.written == {1: "901"}
    assert [e["message"] for e in found.errors[2]] == ["taken"]
    assert [e["message"] for e in found.errors[3]] == ["bad phone"]


def test_errors_nobody_can_claim_are_not_spread_over_every_failed_input():
    sent = upserts("a@example.com", "b@example.com")
    body = {"results": [], "errors": [{"message": "something", "context": {}}, {"message": "else"}]}
    found = match(sent, body)
    assert found.errors == {} and found.unexplained == ["something", "else"]
    one = match(upserts("a@example.com"), {"results": [], "errors": [{"message": "it was you"}]})
    assert [e["message"] for e in one.errors[1]] == ["it was you"]


def test_note_timestamps_are_utc_with_milliseconds_and_match_whatever_form_comes_back():
    paris = timezone(timedelta(hours=2))
    moment = datetime(2026, 5, 4, 11, 30, 15, 123456, tzinfo=paris)
    assert hs_timestamp(moment) == "2026-05-04T09:30:15.123Z"
    assert hs_timestamp(datetime(2026, 5, 4, 9, 30, 15)) == "2026-05-04T09:30:15.000Z"
    sent = [Sent(7, {}, ("hs_timestamp", hs_timestamp(moment)))]
    epoch_ms = str(int(datetime(2026, 5, 4, 9, 30, 15, 123000, tzinfo=UTC).timestamp() * 1000))
    body = {"results": [{"id": "5", "properties": {"hs_timestamp": epoch_ms}}, {"id": "6", "properties": {}}]}
    assert match(sent, body).written == {7: "5"}
