"""Shared fixtures: two shops (tenants), their people, and a factory for customers."""

import itertools
import os

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from customers.models import Customer, Interaction, Membership
from customers.services import membership_add, shop_create

_numbers = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` skip on SQLite, unless REQUIRE_POSTGRES=1 (CI), where they must run."""
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        return
    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _require_postgres_in_ci(request):
    if "postgres" in request.keywords and os.environ.get("REQUIRE_POSTGRES") == "1":
        assert connection.vendor == "postgresql", "REQUIRE_POSTGRES=1 but the tests do not run on PostgreSQL"


@pytest.fixture(scope="session", autouse=True)
def _celery_in_memory_broker():
    """A task a test sends to a broker goes to kombu's in-memory one: never to the embedded default's
    folder, where the developer's `scripts/run` worker would run it against their database."""
    from coccinelle.celery import app

    app.conf.broker_url, app.conf.broker_transport_options = "memory://localhost/", {}


@pytest.fixture(autouse=True)
def _wake_every_time(settings):
    """Each webhook asks the shared cache whether a task is queued: a test's tasks run at once, in
    process, so the running app's half-second shortcut would leave the next webhook's event
    unprocessed (its tests turn it back on: tests/test_inbound_batches.py)."""
    settings.INBOUND_WAKEUP_LOCAL_SECONDS = 0


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run in-process in tests, whatever REDIS_URL says; the end-to-end worker tests opt out."""
    from coccinelle.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def celery_not_eager():
    """Tasks are sent to the (in-memory) broker as in the running app, instead of run in-process."""
    from coccinelle.celery import app

    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _empty_cache():
    """The lookup cache (coccinelle/cache.py) is per process without Redis; SQLite reuses ids after a
    test's rollback, so a cached shop of one test must not answer for another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _sign_in_throttling(request, settings):
    """django-axes is off except in tests marked `axes` (tests/test_security_login.py): Client.login()
    authenticates without a request, which axes refuses, and tests sign in far more than a person would."""
    settings.AXES_ENABLED = request.node.get_closest_marker("axes") is not None


@pytest.fixture
def shop(db):
    return shop_create(name="Boutique Coccinelle", country="FR", language="fr")


@pytest.fixture
def other_shop(db):
    return shop_create(name="Other Boutique", country="BE", language="fr")


def _user(username, *, superuser=False):
    User = get_user_model()
    user = User.objects.create_user(
        username=username, password="pw-" + username, email=f"{username}@example.com"
    )
    if superuser:
        user.is_staff = user.is_superuser = True
        user.save()
    return user


@pytest.fixture
def owner(shop):
    user = _user("owner")
    membership_add(shop=shop, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def staff(shop):
    user = _user("staff")
    membership_add(shop=shop, user=user, role=Membership.Role.STAFF)
    return user


@pytest.fixture
def other_owner(other_shop):
    user = _user("other-owner")
    membership_add(shop=other_shop, user=user, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def superuser(db):
    return _user("root", superuser=True)


@pytest.fixture
def make_customer():
    """make_customer(shop, first_name=..., ...) with a fresh valid French mobile number by default."""

    def make(shop, **fields):
        if "phone" not in fields:
            fields["phone"] = f"+336123{next(_numbers):05d}"
        return Customer.objects.create(shop=shop, **fields)

    return make


@pytest.fixture
def make_outbound(make_customer):
    """make_outbound(shop, provider=..., provider_message_id=..., status=...): a message the shop sent."""

    def make(shop, *, provider="meta", provider_message_id=None, status="queued", customer=None):
        return Interaction.objects.create(
            customer=customer or make_customer(shop),
            channel="whatsapp" if provider == "meta" else "sms",
            direction="outbound",
            body="Bonjour !",
            provider=provider,
            provider_message_id=provider_message_id,
            status=status,
        )

    return make


@pytest.fixture
def api_client(db):
    """api_client(shop, scope="write"): a DRF client calling the REST API with a new key of `shop`
    (its ApiKey row as `.key`, the secret as `.raw_key`)."""
    from rest_framework.test import APIClient

    from customers.api_keys import api_key_create

    def make(shop, scope="write"):
        key, raw = api_key_create(shop=shop, name=f"test {scope}", scope=scope)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        client.key, client.raw_key = key, raw
        return client

    return make
