"""Schema-driven fuzzing: schemathesis reads /api/schema/ and calls every operation of it with generated
input, in process (the WSGI app, inside the test's transaction), with an owner key of a seeded shop while
a second shop's data is present. Every answer must be no 5xx, a documented status code, JSON of the
documented type, and a body the schema validates. Endpoints added to any app's router are fuzzed too.

A bounded number of examples per operation, derandomized: the same calls on every run (CI included).
"""

from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.holds import hold_create
from catalog.services import product_upsert, variant_upsert_by_sku
from crm_backends.outgoing.models import WebhookDelivery
from crm_backends.outgoing.services import endpoint_create
from customers.api_keys import api_key_create
from customers.models import Interaction, Note, Order
from customers.services import tags_get_or_create

pytestmark = pytest.mark.django_db
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 15


def plain_str_headers(app):
    """The app, refusing what a real WSGI server refuses and the in-process client lets through: a header
    name or value that is not exactly a str (DRF's Hyperlink as a Location made wsgiref answer a 500)."""

    def checked(environ, start_response):
        def start(status, headers, exc_info=None):
            for name, value in headers:
                assert type(name) is str and type(value) is str, f"header {name}: {type(value).__name__}"
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return checked


# Read at collection (the schema view needs no database): one test per operation, named by it.
schema = schemathesis.openapi.from_wsgi("/api/schema/", plain_str_headers(get_wsgi_application()))


@pytest.fixture(autouse=True)
def _keep_the_tests_connection():
    """Django closes the database connection when a request starts and ends, which would end the test's
    transaction (and its data): its own test client disconnects those handlers around each request, and
    the WSGI calls here do the same."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _seed(shop, make_customer, owner=None) -> list[int]:
    tags = tags_get_or_create(shop=shop, names=["fidélité", "mariage"])
    endpoint = endpoint_create(shop=shop, url=f"http://127.0.0.1:9/{shop.slug}/", events=["order.created"])
    ids = []
    for n in range(4):
        customer = make_customer(
            shop, first_name=f"Client{n}", last_name="Durand", email=f"c{n}@{shop.slug}.example"
        )
        customer.tags.add(tags[n % 2])
        Note.objects.create(customer=customer, body=f"note {n}", author=owner)
        Order.objects.create(shop=shop, customer=customer, reference=f"{shop.slug}-{n}", amount="42.50")
        Interaction.objects.create(customer=customer, channel="sms", direction="inbound", body="Bonjour")
        ids.append(customer.pk)
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).values_list("pk", flat=True)
    return ids + [tag.pk for tag in tags] + [endpoint.pk, *deliveries] + _seed_catalogue(shop, customer)


def _seed_catalogue(shop, customer) -> list[int]:
    """A product with variants (one out of stock) and a hold of the first for `customer`, so that the
    catalogue's operations run on real rows."""
    product, _ = product_upsert(shop=shop, name="Robe portefeuille", fields={"category": "Robes"})
    variants = [
        variant_upsert_by_sku(
            shop=shop,
            sku=f"{shop.slug}-{size}",
            fields={
                "product": product,
                "size": size,
                "color": "bleu",
                "price": Decimal("89.00"),
                "stock": stock,
            },
        )[0]
        for size, stock in (("38", 2), ("40", 0))
    ]
    hold = hold_create(customer=customer, variant=variants[0])
    return [product.pk, *(variant.pk for variant in variants), hold.pk]


@pytest.fixture
def seeded(shop, other_shop, owner, make_customer, settings):
    """Shop A (the key's) and shop B, each with customers, notes, orders, messages, tags and a product
    with variants; the ids the fuzzer's path parameters are drawn from (mostly A's, some B's, which
    must answer 404); and a webhook endpoint with deliveries each."""
    settings.API_THROTTLE_RATE = "100000/min"  # the fuzzer calls far faster than an integration
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True  # seeded endpoints on loopback (nothing is sent)
    mine = _seed(shop, make_customer, owner)
    theirs = _seed(other_shop, make_customer)
    _key, raw = api_key_create(shop=shop, name="fuzz", scope="owner", actor=owner)
    return {"raw_key": raw, "ids": mine + theirs[:2] + theirs[-4:]}  # B's catalogue and hold too


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_within_its_schema(case, seeded):
    # A random id is nearly always a 404: most are mapped onto the seeded rows, so that the operations
    # also run on real customers, notes and tags (and on another shop's, which must stay a 404).
    for name, value in list((case.path_parameters or {}).items()):
        if isinstance(value, int) and value % 5:
            case.path_parameters[name] = seeded["ids"][value % len(seeded["ids"])]
    case.call_and_validate(headers={"Authorization": f"Bearer {seeded['raw_key']}"}, checks=CHECKS)
