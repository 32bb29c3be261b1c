"""How fast the owner's pages and the admin answer with 1,000,000 customers in the database.

    .venv/bin/python bench/pages.py [--runs 5] [--reseed] [--explain] [--only SUBSTRING]

Seeds a PostgreSQL database of its own (bench_pages; kept between runs, seeded once: --reseed starts
again; a database seeded by an older, smaller version of this script is emptied and seeded again) with 10
shops of 100,000 customers, interleaved in the table as shops growing side by side leave them, and
10,000,000 messages: 1,000,000 per shop over two years, each customer's questions answered automatically
within seconds, handed over, or answered by a person within two hours. The shop viewed also has ~67,000
orders and tags, and its analytics' daily rows rebuilt from its messages (`stats_rebuild_all`, as
`rebuild_stats` does). Seeding is set-based SQL (`generate_series`), then the per-customer figures are
computed once and the database is vacuumed and analysed (as autovacuum leaves a production one).
Then, in-process with Django's test client signed in as the shop's owner (DEBUG off), requests every
page: the customer list with its stat cards, each filter, sort and page size, deep pages, searches of
every kind, a customer's page (its conversation and its activity), the inbox, the admin's customer list,
and the analytics page (7 and 30 days, 12 months, a custom year) with a CSV; --runs times each, and
prints the median, the worst, the SQL statements per page and the garbage collector's time inside the
worst run, then the slowest page against the 100 ms target. --explain prints `EXPLAIN (ANALYZE, BUFFERS)`
of the slowest statement of the slowest page. Only 127.0.0.1 is contacted.
"""

import argparse
import datetime
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

TARGET_MS = 100
SHOPS, PER_SHOP = 10, 100_000
MESSAGES_PER_SHOP, ORDERS = 1_000_000, 67_000
MESSAGES = SHOPS * MESSAGES_PER_SHOP
FIRST_NAMES = [
    "Céline", "Léa", "Julie", "Chloé", "Inès", "Zoé", "Manon", "Hélène", "Noémie", "Amélie", "Camille",
    "Sarah", "Emma", "Louise", "Jeanne", "Anaïs", "Élodie", "Margaux", "Océane", "Maëlle", "Thomas",
    "Lucas", "Hugo", "Théo", "Raphaël", "Gaël", "Jérôme", "François", "Noël", "Benoît",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Lefèvre", "Dubois", "Moreau", "Girard", "Bérard", "Mercier", "Faure", "Rousseau",
    "Fontaine", "Chevalier", "Lemaître", "Gauthier", "Dupré", "Boucher", "Perrin", "Lefebvre", "Garnier",
    "Lambert", "Bonnet", "François", "Legrand", "Gérard", "Roussel", "Clément", "Müller", "Nguyen",
    "Da Silva", "Benali", "Ménard", "Hébert",
]  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="times each page is requested")
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed it again")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slowest page's slowest statement")
    parser.add_argument("--only", default="", help="only the pages whose name contains this")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_pages")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    harness.require_local(args.database_url)
    fresh = args.reseed or not _database_exists(args.database_url)
    if fresh:
        harness.database_recreate(args.database_url)
    os.environ.update(
        DATABASE_URL=args.database_url,
        DJANGO_SETTINGS_MODULE="coccinelle.settings",
        DEBUG="0",
        SECRET_KEY="bench-pages-" + "x" * 40,
        ALLOWED_HOSTS="testserver",
        REDIS_URL="",
        LOG_LEVEL="WARNING",
        SECURE_SSL_REDIRECT="0",
        # The analytics page asks a task to refresh today's row (no worker here: the page never waits
        # for it); its message files go to a folder of the bench's, not the project's .celery-broker/.
        CELERY_BROKER_DIR=str(Path(tempfile.gettempdir()) / "bench-pages-broker"),
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not fresh and not _seeded():
        call_command("flush", interactive=False, verbosity=0)  # seeded by an older version: start again
        fresh = True
    started = time.monotonic()
    seeded = seed() if fresh else None
    if seeded:
        print(f"seeded {seeded} in {time.monotonic() - started:.0f} s")
    else:
        _vacuum_analyze()  # a migration may have rewritten the rows since the last run
    results = measure(args)
    report(args, results)
    return 0


def _database_exists(url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    admin = harness.database_connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        return bool(admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())
    finally:
        admin.close()


def _seeded() -> bool:
    """Everything this version seeds is there (the messages' count: an estimate, from the statistics)."""
    from django.db import connection

    from analytics.models import DailyStats
    from customers.models import Customer

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'customers_interaction'")
        messages = cursor.fetchone()[0]
    return (
        Customer.objects.count() >= SHOPS * PER_SHOP
        and messages >= MESSAGES * 0.9
        and DailyStats.objects.filter(shop__slug="bench-0").exists()
    )


# --- seeding ----------------------------------------------------------------------------------------------


def seed() -> str:
    """Shops, an owner, customers, the viewed shop's messages, orders and tags, in set-based SQL."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from customers.models import Membership, Shop

    shops = [
        Shop.objects.create(name=f"Bench shop {n}", slug=f"bench-{n}", address="", opening_hours="")
        for n in range(SHOPS)
    ]
    owner = get_user_model().objects.create_user("bench-owner", password="bench", is_staff=True)
    Membership.objects.create(user=owner, shop=shops[0], role=Membership.Role.OWNER)
    with connection.cursor() as cursor:
        # The shops' customers interleaved, as shops signing up and growing side by side leave them: each
        # shop's rows spread over the whole table (seeded shop after shop, a shop's rows sat side by side,
        # which made PostgreSQL prefer reading a shop's every row to its search indexes).
        params = {"shops": [shop.pk for shop in shops], "n": SHOPS * PER_SHOP, "per_shop": PER_SHOP}
        cursor.execute(CUSTOMERS_SQL, {**params, "first": FIRST_NAMES, "last": LAST_NAMES})
        viewed = shops[0].pk
        cursor.execute(CUSTOMER_NUMBERS_SQL)
        started = time.monotonic()
        cursor.execute(MESSAGES_SQL, {**params, "pairs": MESSAGES_PER_SHOP // 2, "owner": owner.pk})
        print(f"  {MESSAGES:,} messages in {time.monotonic() - started:.0f} s", flush=True)
        cursor.execute(ORDERS_SQL, {"shop": viewed, "n": ORDERS})
        cursor.execute(TAGS_SQL, {"shop": viewed})
    # The rows came in by SQL, which no signal sees: the per-customer figures are computed once, as a
    # bulk load must do (customers/figures.py).
    from customers.figures import figures_refresh_all

    figures_refresh_all()
    _vacuum_analyze()
    started = time.monotonic()
    analytics_prepare(shops[0])
    print(
        f"  analytics' daily rows of {shops[0].slug} rebuilt in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return f"{SHOPS * PER_SHOP:,} customers, {MESSAGES:,} messages, {ORDERS:,} orders"


def analytics_prepare(shop) -> None:
    """The viewed shop's daily rows, from its two years of messages, as `rebuild_stats --shop` builds
    them; the page reads only its own shop's rows, so the other shops' are not needed."""
    from analytics.aggregate import stats_rebuild_all

    stats_rebuild_all(shop, None)
    _vacuum_analyze()


CUSTOMERS_SQL = """
INSERT INTO customers_customer (
    shop_id, first_name, last_name, name_source, phone, whatsapp_user_id, email, external_address,
    profile_name, preferred_channel, language, segment, segment_manual, address_line1, address_line2,
    postal_code, city, country, opted_out_at, auto_replies_paused_until, needs_attention,
    first_contact_at, last_contact_at, source, created_at, updated_at)
SELECT (%(shops)s::bigint[])[1 + s],
       (%(first)s::text[])[1 + g %% cardinality(%(first)s::text[])],
       (%(last)s::text[])[1 + (g / 7) %% cardinality(%(last)s::text[])],
       'human',
       '+336' || lpad((s * %(per_shop)s + g)::text, 8, '0'),
       NULL,
       CASE WHEN g %% 10 < 7 THEN 'client' || g || '@example.com' END,
       NULL, '',
       CASE WHEN g %% 3 = 0 THEN 'sms' ELSE 'whatsapp' END,
       'fr',
       (ARRAY['prospect', 'active', 'active', 'vip', 'inactive'])[1 + g %% 5],
       false, '', '', '', '', '', NULL, NULL,
       g %% 97 = 0,
       now() - (g %% 900) * interval '1 day',
       now() - (g %% 700) * interval '1 day' - (g %% 1440) * interval '1 minute',
       CASE WHEN g %% 3 = 0 THEN 'sms' ELSE 'whatsapp' END,
       now() - (g %% 900) * interval '1 day', now()
-- Row r goes to shop s = r mod SHOPS, as its g-th customer (1 to PER_SHOP).
FROM generate_series(0, %(n)s - 1) AS r,
     LATERAL (SELECT r %% cardinality(%(shops)s::bigint[]) AS s,
                     1 + r / cardinality(%(shops)s::bigint[]) AS g) AS placed
ORDER BY r
"""

# Each shop's customers numbered 0..PER_SHOP-1, for the messages' set-based insert below.
CUSTOMER_NUMBERS_SQL = """
CREATE TEMPORARY TABLE bench_customer_numbers AS
SELECT id, shop_id, row_number() OVER (PARTITION BY shop_id ORDER BY id) - 1 AS n FROM customers_customer;
CREATE INDEX ON bench_customer_numbers (shop_id, n);
ANALYZE bench_customer_numbers;
"""

# Every shop's messages: `pairs` questions each, with their answers, inserted in the order they occurred
# (ids grow with time, as in production, where the analytics find recent messages by id). A shop's pair
# p is its customer p mod PER_SHOP's, on day p mod 700 before now, at a minute from p (two hours ago at
# the latest: no reply in the future); its answer (chosen by p / 700, so that every day has each kind):
# 8 in 10 automatic within seconds (with the `_reply_kind` marker webhooks.autoreply writes), 1 in 10 an
# automatic hand-over, 1 in 10 a person's reply within two hours (the owner).
MESSAGES_SQL = """
INSERT INTO customers_interaction (
    customer_id, channel, direction, body, media, location, button_reply, message_type, content,
    context_message_id, forwarded, reactions, edits, edited_at, deleted_at, provider, provider_message_id,
    status, error_code, occurred_at, raw_payload, author_id, is_automatic, in_reply_to_id, created_at)
SELECT numbers.id,
       CASE WHEN p %% 3 = 0 THEN 'sms' ELSE 'whatsapp' END,
       CASE WHEN k = 0 THEN 'inbound' ELSE 'outbound' END,
       CASE WHEN k = 0 THEN 'Bonjour, avez-vous la robe bleue en 38 ?'
            WHEN kind = 8 THEN 'Une personne de l''équipe vous répond bientôt.'
            ELSE 'Oui, nous l''avons.' END,
       '[]', NULL, '', 'text', '{}', '', false, '[]', '[]', NULL, NULL, 'twilio',
       'SMbench' || seeded.shop || '-' || p || '-' || k,
       CASE WHEN k = 0 THEN 'received' ELSE 'delivered' END, '',
       moment,
       CASE WHEN k = 0 OR kind = 9 THEN '{}'::jsonb
            WHEN kind = 8 THEN '{"_reply_kind": "handover"}'::jsonb
            ELSE '{"_reply_kind": "answer"}'::jsonb END,
       CASE WHEN k = 1 AND kind = 9 THEN %(owner)s END,
       k = 1 AND kind <> 9,
       NULL, moment
FROM unnest(%(shops)s::bigint[]) AS seeded (shop)
CROSS JOIN generate_series(0, %(pairs)s - 1) AS p
CROSS JOIN LATERAL (SELECT now() - (p %% 700) * interval '1 day'
                           - (120 + (p * 37) %% 1320) * interval '1 minute' AS asked,
                           (p / 700) %% 10 AS kind) AS timing
CROSS JOIN (VALUES (0), (1)) AS turn (k)
-- Recorded when it occurred (created_at), as the webhooks record them: the analytics find recent
-- messages by the ids recorded since a moment.
CROSS JOIN LATERAL (SELECT asked + CASE WHEN k = 0 THEN interval '0'
                                        WHEN kind = 9 THEN (p %% 7200) * interval '1 second'
                                        ELSE (2 + p %% 5) * interval '1 second' END AS moment) AS recorded
JOIN bench_customer_numbers AS numbers ON numbers.shop_id = seeded.shop AND numbers.n = p %% %(per_shop)s
ORDER BY moment
"""

ORDERS_SQL = """
WITH shop_customers AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM customers_customer WHERE shop_id = %(shop)s)
INSERT INTO customers_order (shop_id, customer_id, reference, amount, currency, placed_at)
SELECT %(shop)s, shop_customers.id, 'B' || i, 20 + (i %% 480), 'EUR',
       now() - (i %% 700) * interval '1 day'
FROM generate_series(1, %(n)s) AS i JOIN shop_customers ON shop_customers.n = (i * 7919) %% 100000
"""

TAGS_SQL = """
WITH tags AS (
    INSERT INTO customers_tag (shop_id, name)
    SELECT %(shop)s, name FROM unnest(ARRAY['auto-created', 'sms', 'whatsapp', 'fidèle', 'mariage']) AS name
    RETURNING id, name),
customers AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n FROM customers_customer WHERE shop_id = %(shop)s)
INSERT INTO customers_customer_tags (customer_id, tag_id)
SELECT customers.id, tags.id FROM customers JOIN tags
  ON (tags.name = 'auto-created' AND customers.n %% 2 = 0)
  OR (tags.name = 'fidèle' AND customers.n %% 9 = 0)
  OR (tags.name = 'mariage' AND customers.n %% 31 = 0)
"""


def _vacuum_analyze() -> None:
    """Statistics and the visibility map, as autovacuum leaves a production database: the stat cards'
    counts are index-only scans, which need the latter. VACUUM cannot run in a transaction."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --- measuring ----------------------------------------------------------------------------------------


def pages() -> list[tuple[str, str]]:
    """(name, URL) of every page measured, for the viewed shop."""
    from customers.models import Customer, Shop, Tag

    shop = Shop.objects.get(slug="bench-0")
    tag = Tag.objects.get(shop=shop, name="fidèle")
    somebody = Customer.objects.filter(shop=shop).order_by("pk")[PER_SHOP // 2]
    phone = somebody.phone  # +336XXXXXXXX
    national = "+".join(["0" + phone[3:4], phone[4:6], phone[6:8], phone[8:10], phone[10:]])  # 06 12 …
    listing = "/dashboard/customers/"
    admin = "/admin/customers/customer/"
    today = datetime.date.today()
    year_ago = today - datetime.timedelta(days=365)
    return [
        ("list", listing),
        ("list, 50 per page", f"{listing}?per_page=50"),
        ("list, 100 per page", f"{listing}?per_page=100"),
        ("list, page 2", f"{listing}?page=2"),
        ("list, page 2000", f"{listing}?page=2000"),
        ("list, last page", f"{listing}?page=last"),
        ("sort by name", f"{listing}?sort=name"),
        ("sort by revenue", f"{listing}?sort=revenue"),
        ("sort by revenue, page 2000", f"{listing}?sort=revenue&page=2000"),
        ("filter segment vip", f"{listing}?segment=vip"),
        ("filter channel whatsapp", f"{listing}?channel=whatsapp"),
        ("filter tag", f"{listing}?tag={tag.pk}"),
        ("filter needs attention", f"{listing}?attention=on"),
        ("search celine", f"{listing}?q=celine"),
        ("search Lefèvre", f"{listing}?q=Lef%C3%A8vre"),
        ("search julie martin", f"{listing}?q=julie+martin"),
        ("search e-mail", f"{listing}?q=client157%40example.com"),
        ("search phone, national", f"{listing}?q={national}"),
        ("search phone, E.164", f"{listing}?q=%2B{phone[1:]}"),
        ("search, no match", f"{listing}?q=zzzzqqq"),
        ("customer page (conversation)", f"/dashboard/customers/{somebody.pk}/"),
        ("customer page, activity", f"/dashboard/customers/{somebody.pk}/?tab=activity"),
        ("inbox", "/dashboard/inbox/"),
        ("inbox, unassigned", "/dashboard/inbox/?show=unassigned"),
        ("inbox, page 5", "/dashboard/inbox/?page=5"),
        ("admin list", admin),
        ("admin search celine", f"{admin}?q=celine"),
        ("admin search phone", f"{admin}?q=%2B{phone[1:]}"),
        ("admin filter vip", f"{admin}?segment__exact=vip"),
        ("admin page 1000", f"{admin}?p=1000"),
        ("analytics, 7 days", "/dashboard/analytics/?period=7d"),
        ("analytics, 30 days", "/dashboard/analytics/?period=30d"),
        ("analytics, 12 months", "/dashboard/analytics/?period=12m"),
        ("analytics, custom year", f"/dashboard/analytics/?period=custom&start={year_ago}&end={today}"),
        ("analytics CSV, 12 months", "/dashboard/analytics/export.csv?section=messages&period=12m"),
    ]  # fmt: skip


def measure(args) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-owner"))
    client.get("/dashboard/customers/")  # warm: templates, the session's shop
    # As coccinelle/wsgi.py does in each gunicorn worker once the project is loaded: what is loaded (and
    # here, seeded) so far is out of the collector's reach.
    gc.collect()
    gc.freeze()
    collector = GcTime()
    results = []
    for name, url in pages():
        if args.only and args.only not in name:
            continue
        times, gc_times, statements, slowest = [], [], 0, None
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as captured, collector:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            gc_times.append(collector.ms)
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url} answered {response.status_code}")
            statements = len(captured.captured_queries)
            worst = max(captured.captured_queries, key=lambda q: float(q["time"]), default=None)
            if worst and (slowest is None or float(worst["time"]) > float(slowest["time"])):
                slowest = worst
        worst_gc = gc_times[times.index(max(times))]
        results.append(
            {"name": name, "url": url, "median": statistics.median(times), "worst": max(times),
             "statements": statements, "slowest_sql": slowest}
        )  # fmt: skip
        print(f"{name:<32} median {results[-1]['median']:8.1f} ms  worst {max(times):8.1f} ms  "
              f"SQL {statements:3d}  GC in the worst {worst_gc:5.1f} ms", flush=True)  # fmt: skip
    return results


class GcTime:
    """The time Python's garbage collector ran inside the block (gc.callbacks): a page's worst run is
    sometimes one that a full collection landed on, which the page itself did not cause."""

    def __init__(self):
        self.ms, self._started = 0.0, None
        gc.callbacks.append(self._callback)

    def _callback(self, phase, info):
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.ms += (time.perf_counter() - self._started) * 1000

    def __enter__(self):
        self.ms = 0.0
        return self

    def __exit__(self, *exc):
        return False


def report(args, results: list[dict]) -> None:
    from django.db import connection

    now = datetime.datetime.now(datetime.UTC)
    print(f"\n== bench/pages.py {now:%Y-%m-%d %H:%M %Z}, {args.runs} runs each, in-process, PostgreSQL "
          f"{connection.pg_version // 10000}, {SHOPS * PER_SHOP:,} customers ({SHOPS} shops), "
          f"{MESSAGES:,} messages, the viewed shop with {ORDERS:,} orders")  # fmt: skip
    if not results:
        return
    slowest = max(results, key=lambda r: r["worst"])
    verdict = "met" if slowest["worst"] <= TARGET_MS else "MISSED"
    print(f"slowest page: {slowest['name']} ({slowest['url']}), worst {slowest['worst']:.1f} ms "
          f"(target <= {TARGET_MS} ms: {verdict})")  # fmt: skip
    over = [r["name"] for r in results if r["worst"] > TARGET_MS]
    print(
        f"pages over {TARGET_MS} ms: {len(over)} of {len(results)}" + (f": {', '.join(over)}" if over else "")
    )
    if args.explain and slowest["slowest_sql"]:
        sql, seconds = slowest["slowest_sql"]["sql"], float(slowest["slowest_sql"]["time"])
        print(f"\nslowest statement of that page ({seconds * 1000:.1f} ms):\n{sql}\n")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    sys.exit(main())
