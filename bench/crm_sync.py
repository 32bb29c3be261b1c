"""Push N customers through the outbox to the local fake HubSpot and fake Salesforce; print what it cost.

    python bench/crm_sync.py [--customers 10000] [--vendor both|hubspot|salesforce]
                             [--baseline-customers 200] [--rate-limit 100] [--window 10]

For each vendor: requests (and, for Salesforce, composite sObject Collections calls), time and
customers/s, SQL statements per drained batch (min-max, so that one can see it does not grow), the
busiest rolling window HubSpot saw against its limit, and a baseline measured in the same run: the
same kind of customers pushed one API call each (what a connector without batching does), as a ratio
of requests and of speed.

The connection is set up first, untimed, as an owner does when connecting (*Test connection*: HubSpot
creates the id property and reads the account); for HubSpot the bench then waits for the rate window to
pass, so that the timed sync starts with the window an owner's first sync would find. Runs on a
throwaway SQLite database; nothing else is touched.
"""

import argparse
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SF_SECRETS = {"client_id": "sf-client", "client_secret": "sf-secret", "refresh_token": "sf-refresh"}


def setup_django(db_path: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.pop("REDIS_URL", None)  # tasks in-process: the bench drives the drain itself
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coccinelle.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["CRM_ALLOWED_HOSTS"] = "127.0.0.1"  # the fakes stand in for the vendors' hosts
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_shop(name, count, backend, options, secrets):
    from crm_backends.models import CrmConnection
    from customers.models import Customer
    from customers.services import shop_create

    shop = shop_create(name=name, country="FR")
    Customer.objects.bulk_create(
        Customer(shop=shop, first_name=f"Client{n}", last_name="Bench", email=f"c{n}@{shop.slug}.example",
                 phone=f"+3361{n:07d}", segment="active")
        for n in range(count)
    )  # fmt: skip
    connection = CrmConnection(shop=shop, backend=backend, options=options)
    connection.set_secrets(secrets)
    connection.save()
    return shop, connection


def hubspot_options(url, args):
    return {"api_base": url, "rate_limit": args.rate_limit, "rate_window_seconds": args.window}


@contextmanager
def counting_statements():
    """Counts the SQL statements sent to the database (transaction statements included)."""
    from django.db import connection

    counter = [0]

    def count(execute, sql, params, many, context):
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counter


def drain_all(connection):
    """Queue every customer and drain, as the worker does; returns (seconds, statements per batch)."""
    from crm_backends.services import due_count, sync_drain, sync_full

    per_batch = []
    started = time.perf_counter()
    sync_full(connection)  # queues every customer; with no broker the drain is driven right here
    while True:
        with counting_statements() as statements:
            due = due_count(connection)
            report = sync_drain(connection) if due else None
        if report is None or not report.handled:
            break
        per_batch.append(statements[0])
    return time.perf_counter() - started, per_batch


def time_inside(fake) -> list[float]:
    """Adds up the time the fake spends answering (it runs in this process, on this process's CPU): what
    the vendor's own servers would spend, not the connector's."""
    spent, handle = [0.0], fake.handle

    def timed(request):
        started = time.perf_counter()
        try:
            return handle(request)
        finally:
            spent[0] += time.perf_counter() - started

    fake.handle = timed
    return spent


def set_up(connection):
    from crm_backends.services import connection_test

    failed = [c for c in connection_test(connection) if not c.ok]
    if failed:
        raise SystemExit(f"{connection.backend}: test connection failed: {failed}")
    connection.refresh_from_db()


# --- HubSpot -------------------------------------------------------------------------------------------


def hubspot_run(args):
    from tests.fakes.hubspot import FakeHubSpot

    def fake():
        return FakeHubSpot(token="bench-token", rate_limit=args.rate_limit, window_seconds=args.window)

    with fake() as hubspot:
        options = hubspot_options(hubspot.url, args)
        _, connection = make_shop(
            "Bench HubSpot", args.customers, "hubspot", options, {"token": "bench-token"}
        )
        set_up(connection)
        setup_requests = len(hubspot.requests)
        time.sleep(args.window * 1.05 + 0.3)  # the setup's requests leave the window (not timed)
        inside = time_inside(hubspot)
        seconds, per_batch = drain_all(connection)
        requests = len(hubspot.requests) - setup_requests
        report("HubSpot, batched (outbox + batch upsert)", args.customers, requests, seconds, per_batch)
        print(f"of which answering inside the fake HubSpot (same process): {inside[0]:.2f} s")
        print(f"setup before the timed run: {setup_requests} requests (test connection), then a pause")
        print(
            f"busiest {args.window:g}s window: {hubspot.max_requests_in_window} requests "
            f"(limit {args.rate_limit}); 429s served: {hubspot.rate_limited_count}"
        )
    with fake() as base:
        base_seconds = hubspot_one_call_each(base.url, args)
        label = "HubSpot, baseline (one call per customer)"
        report(label, args.baseline_customers, len(base.requests), base_seconds)
    compare(args, requests, seconds, len(base.requests), base_seconds)


def hubspot_one_call_each(fake_url, args):
    """Baseline: one POST /crm/v3/objects/contacts per customer, under the same client-side limit."""
    from coccinelle import http
    from crm_backends.hubspot import HubSpotBackend
    from crm_backends.services import customer_payloads
    from customers.models import Customer

    options, secrets = hubspot_options(fake_url, args), {"token": "bench-token"}
    shop, connection = make_shop(
        "Bench HubSpot baseline", args.baseline_customers, "hubspot", options, secrets
    )
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


# --- Salesforce ----------------------------------------------------------------------------------------


def salesforce_run(args):
    from tests.fakes.salesforce import FakeSalesforce

    with FakeSalesforce() as salesforce:
        options = {"login_url": salesforce.url}
        _, connection = make_shop("Bench Salesforce", args.customers, "salesforce", options, SF_SECRETS)
        set_up(connection)
        setup_requests = len(salesforce.requests)
        inside = time_inside(salesforce)
        seconds, per_batch = drain_all(connection)
        timed = salesforce.requests[setup_requests:]
        composite = sum(1 for r in timed if "/composite/sobjects" in r.path)
        label = "Salesforce, batched (outbox + sObject Collections upsert)"
        report(label, args.customers, len(timed), seconds, per_batch)
        print(f"composite sObject Collections calls: {composite}; other requests: {len(timed) - composite}")
        print(f"of which answering inside the fake Salesforce (same process): {inside[0]:.2f} s")
        print(f"setup before the timed run: {setup_requests} requests (test connection)")
    with FakeSalesforce() as base:
        base_seconds = salesforce_one_call_each(base.url, args)
        calls = [r for r in base.requests if "/sobjects/Contact/" in r.path]
        label = "Salesforce, baseline (one upsert call per customer)"
        report(label, args.baseline_customers, len(calls), base_seconds)
    compare(args, len(timed), seconds, len(calls), base_seconds)


def salesforce_one_call_each(fake_url, args):
    """Baseline: one PATCH /sobjects/Contact/<external id field>/<id> per customer."""
    from crm_backends.registry import backend_for
    from crm_backends.services import customer_payloads
    from customers.models import Customer

    options = {"login_url": fake_url}
    shop, connection = make_shop(
        "Bench Salesforce baseline", args.baseline_customers, "salesforce", options, SF_SECRETS
    )
    backend = backend_for(connection)
    payloads = customer_payloads(
        connection, list(Customer.objects.filter(shop=shop).values_list("pk", flat=True))
    )
    started = time.perf_counter()
    for payload in payloads.values():
        record = backend._record(payload, marker=True)  # the fields the batched push sends
        fields = {k: v for k, v in record.items() if k not in ("attributes", backend.ext_field)}
        backend._call("PATCH", f"/sobjects/Contact/{backend.ext_field}/{payload.customer_id}", json=fields)
    return time.perf_counter() - started


# --- output --------------------------------------------------------------------------------------------


def report(label, customers, requests, seconds, per_batch=None):
    print(f"== {label}")
    print(f"customers: {customers}")
    print(f"requests: {requests}  ({requests / customers:.4f} per customer)")
    print(f"time: {seconds:.2f} s  ({customers / seconds:.0f} customers/s)")
    if per_batch:
        print(
            f"SQL statements per batch: {min(per_batch)}-{max(per_batch)} over {len(per_batch)} batches "
            f"(mean {sum(per_batch) / len(per_batch):.1f}; queueing the customers not included)"
        )


def compare(args, requests, seconds, base_requests, base_seconds):
    per_batched = requests / args.customers
    per_baseline = base_requests / args.baseline_customers
    speed = (args.customers / seconds) / (args.baseline_customers / base_seconds)
    print(
        f"ratio: the baseline needs {per_baseline / per_batched:.0f}x more requests per customer; "
        f"batched pushes {speed:.1f}x more customers/s"
    )
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--baseline-customers", type=int, default=200)
    parser.add_argument("--vendor", choices=("both", "hubspot", "salesforce"), default="both")
    parser.add_argument("--rate-limit", type=int, default=100, help="HubSpot requests per window")
    parser.add_argument("--window", type=float, default=10.0, help="HubSpot's window, in seconds")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(str(Path(tmp) / "bench.sqlite3"))
        if args.vendor in ("both", "hubspot"):
            hubspot_run(args)
        if args.vendor in ("both", "salesforce"):
            salesforce_run(args)


if __name__ == "__main__":
    main()
