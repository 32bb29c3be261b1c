"""The orders' and messages' calls in the OpenAPI schema: examples, and every error in the error shape."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_send_call_lists_its_refusals_by_code():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operations = schema["paths"]["/api/v1/customers/{customer_id}/messages/"]
    assert set(operations) >= {"get", "post"}
    refusals = operations["post"]["responses"]["409"]["content"]["application/json"]["examples"]
    errors = {example["value"]["error"] for example in refusals.values()}
    assert {"opted_out", "outside_whatsapp_window"} <= errors
    assert "202" in operations["post"]["responses"]
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/orders/"])


@pytest.mark.parametrize(
    "path, methods",
    [
        ("/api/v1/orders/", {"get", "post"}),
        ("/api/v1/orders/{id}/", {"get", "delete"}),
        ("/api/v1/customers/{customer_id}/orders/", {"get"}),
        ("/api/v1/customers/{customer_id}/messages/", {"get", "post"}),
    ],
)
def test_every_call_has_examples_and_its_errors_in_the_error_shape(path, methods):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operations = schema["paths"][path]
    assert set(operations) - {"parameters"} == methods
    for method in methods:
        responses = operations[method]["responses"]
        errors = {code for code in responses if code >= "400"}
        assert {"401", "403", "429"} <= errors and errors & {"400", "404"}
        for code in errors:
            body = responses[code]["content"]["application/json"]
            assert body["schema"]["$ref"].endswith("/Error") and body["examples"]
        if method != "delete":
            assert any(
                "examples" in r.get("content", {}).get("application/json", {})
                for c, r in responses.items()
                if c < "300"
            )


def test_orders_and_messages_are_grouped_under_their_own_tags_in_the_docs():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                assert operation["tags"] != ["v1"], (method, path)
    assert schema["paths"]["/api/v1/orders/"]["post"]["tags"] == ["orders"]
    assert schema["paths"]["/api/v1/customers/{customer_id}/orders/"]["get"]["tags"] == ["orders"]
    assert schema["paths"]["/api/v1/customers/{customer_id}/messages/"]["post"]["tags"] == ["messages"]
