"""What every REST API call goes through: keys and sessions, scopes, shops, errors, throttling, schema."""

import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers.api_keys import api_key_revoke
from customers.models import Shop

pytestmark = pytest.mark.django_db


def test_without_credentials_the_answer_is_a_json_401_asking_for_a_bearer_key(shop):
    response = APIClient().get("/api/v1/shop/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "not_authenticated"


def test_an_unknown_key_and_a_revoked_key_are_refused(shop, api_client):
    client = api_client(shop, "read")
    assert client.get("/api/v1/shop/").status_code == 200
    api_key_revoke(key=client.key)
    response = client.get("/api/v1/shop/")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer coc_not-a-key")
    assert stranger.get("/api/v1/shop/").status_code == 401


def test_a_key_is_stored_hashed_shown_by_prefix_and_records_its_last_use(shop, api_client):
    client = api_client(shop, "read")
    assert client.key.key_hash != client.raw_key and client.raw_key not in client.key.key_hash
    assert client.raw_key.startswith(client.key.prefix)
    assert client.key.last_used_at is None
    client.get("/api/v1/shop/")
    client.key.refresh_from_db()
    assert client.key.last_used_at is not None and client.key.last_used_at <= timezone.now()


def test_a_key_sees_its_own_shop_only(shop, other_shop, api_client):
    assert api_client(shop, "read").get("/api/v1/shop/").json()["slug"] == shop.slug
    assert api_client(other_shop, "read").get("/api/v1/shop/").json()["slug"] == other_shop.slug


@pytest.mark.parametrize("scope, status", [("read", 403), ("write", 403), ("owner", 200)])
def test_shop_settings_need_the_owner_scope(shop, api_client, scope, status):
    response = api_client(shop, scope).patch(
        "/api/v1/shop/", {"opening_hours": "Mar-Sam 10h-19h"}, format="json"
    )
    assert response.status_code == status
    shop.refresh_from_db()
    assert (shop.opening_hours == "Mar-Sam 10h-19h") == (status == 200)
    if status == 403:
        assert response.json()["error"] == "permission_denied"


def test_settings_are_validated_by_the_settings_pages_rules(shop, api_client):
    client = api_client(shop, "owner")
    response = client.patch("/api/v1/shop/", {"language": "xx", "slug": "mine"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert set(body["fields"]) == {"slug"}  # unknown/read-only fields are refused before the form runs
    response = client.patch("/api/v1/shop/", {"language": "xx"}, format="json")
    assert response.status_code == 400 and set(response.json()["fields"]) == {"language"}
    assert Shop.objects.get(pk=shop.pk).language == "fr"


def _signed_in(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_signed_in_owner_uses_the_api_with_the_session_and_a_csrf_token(shop, owner):
    client = _signed_in(owner)
    assert client.get("/api/v1/shop/").json()["slug"] == shop.slug
    without = client.patch("/api/v1/shop/", {"opening_hours": "x"}, format="json")
    assert without.status_code == 403 and "CSRF" in without.json()["detail"]
    page = client.get("/dashboard/shop/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.patch("/api/v1/shop/", {"opening_hours": "x"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_staff_signed_in_read_and_write_but_not_what_needs_an_owner(shop, staff):
    client = APIClient()
    client.force_login(staff)
    assert client.get("/api/v1/shop/").status_code == 200
    assert client.patch("/api/v1/shop/", {"opening_hours": "x"}, format="json").status_code == 403


def test_a_user_of_no_shop_is_refused(db, django_user_model):
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("nobody", password="pw"))
    assert client.get("/api/v1/shop/").status_code == 403


def test_over_the_rate_a_key_gets_429_with_retry_after(shop, api_client, settings):
    settings.API_THROTTLE_RATE = "2/min"
    client = api_client(shop, "read")
    assert [client.get("/api/v1/shop/").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/shop/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"] == "throttled"
    # Counted per key: another key of the same shop is not slowed down by this one.
    assert api_client(shop, "read").get("/api/v1/shop/").status_code == 200


def test_unknown_api_urls_and_unexpected_errors_answer_json(shop, api_client, monkeypatch):
    client = api_client(shop, "read")
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404 and response.json()["error"] == "not_found"

    def boom(self):
        raise RuntimeError("bug")

    monkeypatch.setattr("customers.api.shop.ShopViewSet.get_object", boom)
    response = client.get("/api/v1/shop/")
    assert response.status_code == 500
    assert response.json()["error"] == "server_error" and "bug" not in response.content.decode()


def test_the_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/shop/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert not re.search(r'(src|href)="https?://', docs.content.decode())


def test_a_body_over_the_upload_limit_is_a_json_413_not_a_500(shop, api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client(shop, "write").post(
        "/api/v1/tags/", {"name": "x", "pad": "a" * 2000}, format="json"
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": "request_too_large",
        "detail": response.json()["detail"],
        "fields": {},
    }


def test_the_docs_page_runs_under_a_content_security_policy():
    """Swagger UI from our static files, its start-up script a file: no inline script may run there."""
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
