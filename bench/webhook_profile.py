"""Where one Twilio SMS webhook spends its time: the project's WSGI app called in-process, as gunicorn does.

    .venv/bin/python bench/webhook_profile.py [--requests 200] [--top 30] [--conn-max-age SECONDS]

Runs on its own PostgreSQL database (recreated: bench_webhook_profile) and Redis db (9, emptied before
and after), with the same production-like settings as bench/webhook.py. For a new sender each time and
for returning customers, prints the mean time per request, the SQL queries of one request and their
count, the time by package, and cProfile's busiest functions.
"""

import argparse
import cProfile
import io
import pstats
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.twilio_requests import SHOP_NUMBER, WEBHOOK_PATH, Signer  # noqa: E402

AUTH_TOKEN = "bench" + "0" * 27
HOST = "127.0.0.1:8000"


def setup_django(args) -> None:
    import os

    harness.database_recreate(args.database_url)
    harness.redis_flush(args.redis_url)
    env = harness.project_env(
        database_url=args.database_url,
        redis_url=args.redis_url,
        auth_token=AUTH_TOKEN,
        conn_max_age=args.conn_max_age,
    )
    os.environ.clear()
    os.environ.update(env, PUBLIC_BASE_URL=f"http://{HOST}", LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("create_shop", name="Bench", country="FR", twilio_number=[SHOP_NUMBER], stdout=io.StringIO())


def wsgi_post(app, signature: str, body: str) -> str:
    """One request through the WSGI app, closed as a WSGI server closes it (request_finished fires)."""
    data = body.encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": WEBHOOK_PATH,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": HOST,
        "HTTP_X_TWILIO_SIGNATURE": signature,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status = []
    result = app(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        b"".join(result)
    finally:
        result.close()
    return status[0]


class SqlTimer:
    """A database execute wrapper: every statement sent through a cursor, with its time in ms (the
    transaction's BEGIN and COMMIT do not go through a cursor, and connecting happens before)."""

    def __init__(self):
        self.calls = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.calls.append((sql, (time.perf_counter() - started) * 1000))


def measure(app, signer: Signer, shape: str, count: int, top: int) -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    requests = signer.batch(count, shape=shape)
    timings, statements, sql_ms = [], [], []
    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        for signature, body in requests[: count // 2]:  # timed, without the profiler
            timer.calls = []
            started = time.perf_counter()
            status = wsgi_post(app, signature, body)
            timings.append((time.perf_counter() - started) * 1000)
            if not status.startswith("200"):
                raise SystemExit(f"the webhook answered {status}")
            statements.append(len(timer.calls))
            sql_ms.append(sum(ms for _, ms in timer.calls))
    django_counts = []
    profiler = cProfile.Profile()
    for signature, body in requests[count // 2 :]:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            profiler.enable()
            wsgi_post(app, signature, body)
            profiler.disable()
        django_counts.append(len(captured.captured_queries))
    print(f"\n== {shape} senders: {count} requests")
    mean, sql = statistics.mean(timings), statistics.mean(sql_ms)
    print(
        f"time per request: mean {mean:.1f} ms, median {statistics.median(timings):.1f} ms, of which "
        f"waiting on SQL statements {sql:.1f} ms ({sql / mean:.0%}); statements per request: median "
        f"{statistics.median(statements):g} (min {min(statements)}, max {max(statements)}), "
        f"{statistics.median(django_counts):g} as Django counts them (with BEGIN and COMMIT)"
    )
    print("the statements of the last timed request:")
    for n, (sql, ms) in enumerate(timer.calls, 1):
        print(f"  {n:2d}. {ms:5.2f} ms  {sql[:140]}")
    stats = pstats.Stats(profiler)
    print_by_package(stats)
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("cumulative").print_stats(rf"^{re.escape(str(ROOT))}/(?!\.venv/)", top)
    print("busiest project functions (cumulative, with the profiler's overhead):")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("tottime").print_stats(top // 2)
    print("busiest functions of all (own time):")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


def print_by_package(stats: pstats.Stats) -> None:
    """Own time grouped by where the code lives: a project app, a third-party package, the stdlib."""
    by_package = defaultdict(float)
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
        by_package[_package(filename)] += own
    total = sum(by_package.values())
    busiest = sorted(by_package.items(), key=lambda item: -item[1])[:12]
    print("own time by package: " + ", ".join(f"{name} {seconds / total:.0%}" for name, seconds in busiest))


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    if filename.startswith(str(ROOT)):
        return Path(filename).relative_to(ROOT).parts[0] + " (project)"
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    return "stdlib"


def connection_cost(samples: int = 50) -> float:
    from django.db import connection

    started = time.perf_counter()
    for _ in range(samples):
        connection.close()
        connection.ensure_connection()
    return (time.perf_counter() - started) / samples * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=200, help="per load shape (half timed, half profiled)"
    )
    parser.add_argument("--top", type=int, default=30, help="functions listed")
    parser.add_argument("--conn-max-age", type=int, help="CONN_MAX_AGE (default: the project's)")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_webhook_profile")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    setup_django(args)
    try:
        from django.conf import settings
        from django.core.wsgi import get_wsgi_application

        app = get_wsgi_application()
        signer = Signer(auth_token=AUTH_TOKEN, url=f"http://{HOST}{WEBHOOK_PATH}", returning_pool=50)
        print(
            f"CONN_MAX_AGE={settings.DATABASES['default']['CONN_MAX_AGE']}; opening a database connection "
            f"costs {connection_cost():.1f} ms"
        )
        for signature, body in signer.batch(50, shape="returning"):  # each returning sender writes once
            wsgi_post(app, signature, body)
        measure(app, signer, "new", args.requests, args.top)
        measure(app, signer, "returning", args.requests, args.top)
    finally:
        harness.redis_flush(args.redis_url)


if __name__ == "__main__":
    main()
