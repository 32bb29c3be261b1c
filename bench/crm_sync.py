"""Push N customers to the local fake HubSpot through the outbox and print what it cost.

    python bench/crm_sync.py [--customers 10000] [--rate-limit 100] [--window 10]

Prints the number of requests, requests per customer, the time, the busiest rolling window seen by
HubSpot against the limit, and a baseline measured in the same run: the same kind of customers pushed
one API call each (what a connector without batching does), as a ratio. Runs on a throwaway SQLite
database; nothing else is touched.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(db_path: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.pop("REDIS_URL", None)  # tasks in-process: the bench drives the drain itself
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coccinelle.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["CRM_ALLOWED_HOSTS"] = "127.0.0.1"  # the fake HubSpot stands in for api.hubapi.com
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_shop(name, count, with_connection_to=None, rate_limit=100, window=10.0):
    from crm_backends.models import CrmConnection
    from customers.models import Customer
    from customers.services import shop_create

    shop = shop_create(name=name, country="FR")
    Customer.objects.bulk_create(
        Customer(shop=shop, first_name=f"Client{n}", last_name="Bench", email=f"c{n}@{shop.slug}.example",
                 phone=f"+3361{n:07d}", segment="active")
        for n in range(count)
    )  # fmt: skip
    connection = CrmConnection(
        shop=shop,
        backend="hubspot",
        options={"api_base": with_connection_to, "rate_limit": rate_limit, "rate_window_seconds": window},
    )
    connection.set_secrets({"token": "bench-token"})
    connection.save()
    return shop, connection


def batched(fake_url, count, rate_limit, window):
    from crm_backends.services import due_count, sync_drain, sync_full

    _, connection = make_shop("Bench batched", count, fake_url, rate_limit, window)
    started = time.perf_counter()
    sync_full(connection)  # queues every customer; with no broker the drain task runs right here
    while due_count(connection):
        sync_drain(connection)
    return time.perf_counter() - started


def one_call_each(fake_url, count, rate_limit, window):
    """Baseline: one POST /crm/v3/objects/contacts per customer, under the same client-side limit."""
    from coccinelle import http
    from crm_backends.hubspot import HubSpotBackend
    from crm_backends.services import customer_payloads
    from customers.models import Customer

    shop, connection = make_shop("Bench baseline", count, fake_url, rate_limit, window)
    backend = HubSpotBackend(connection)
    payloads = customer_payloads(
        connection, list(Customer.objects.filter(shop=shop).values_list("pk", flat=True))
    )
    started = time.perf_counter()
    for payload in payloads.values():
        backend.limiter.acquire()
        http.request(
            "POST",
            fake_url + "/crm/v3/objects/contacts",
            headers={"Authorization": "Bearer bench-token"},
            json={"properties": backend.properties(payload)},
        )
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--baseline-customers", type=int, default=200)
    parser.add_argument("--rate-limit", type=int, default=100)
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(str(Path(tmp) / "bench.sqlite3"))
        from tests.fakes.hubspot import FakeHubSpot

        with FakeHubSpot(token="bench-token", rate_limit=args.rate_limit, window_seconds=args.window) as fake:
            seconds = batched(fake.url, args.customers, args.rate_limit, args.window)
            requests = len(fake.requests)
            report("batched (outbox + batch upsert)", args.customers, requests, seconds, fake, args)
        with FakeHubSpot(token="bench-token", rate_limit=args.rate_limit, window_seconds=args.window) as base:
            base_seconds = one_call_each(base.url, args.baseline_customers, args.rate_limit, args.window)
            base_requests = len(base.requests)
            report(
                "baseline (one call per customer)",
                args.baseline_customers,
                base_requests,
                base_seconds,
                base,
                args,
            )
        per_batched = requests / args.customers
        per_baseline = base_requests / args.baseline_customers
        print(f"ratio: the baseline needs {per_baseline / per_batched:.0f}x more requests per customer")


def report(label, customers, requests, seconds, fake, args):
    print(f"== {label}")
    print(f"customers: {customers}")
    print(f"requests: {requests}  ({requests / customers:.4f} per customer)")
    print(f"time: {seconds:.2f} s  ({customers / seconds:.0f} customers/s)")
    print(
        f"busiest {args.window:g}s window: {fake.max_requests_in_window} requests (limit {args.rate_limit}); "
        f"429s served: {fake.rate_limited_count}"
    )


if __name__ == "__main__":
    main()
