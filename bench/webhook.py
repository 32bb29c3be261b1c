"""How fast the Twilio SMS webhook accepts messages, and how fast one worker processes them, against a
bare one-INSERT Django view on the same stack.

    .venv/bin/python bench/webhook.py [--rounds 2] [--duration 10] [--warmup 2] [--connections 8]
        [--workers N] [--worker-class sync|gthread|…] [--threads N] [--conn-max-age SECONDS]
        [--events 2000] [--worker-concurrency N] [--skip-acceptance] [--skip-processing]

Starts two gunicorn servers with the same settings (by default production's: gunicorn.conf.py, as the
Dockerfile and docker-compose.yml use it) on the same PostgreSQL database (recreated: bench_webhook) and
Redis db (9, emptied before and after): the bare view (bench/bare/) and the project (coccinelle.wsgi,
DEBUG off, a shop on +33757000001).

Acceptance: wrk POSTs signed Twilio webhooks, each with a new MessageSid, in turn to: the bare view, the
project with a new sender each time, the project with returning senders (a pool of senders who already
wrote once), round after round. Each run is a warm-up then a measured run. Prints requests/s, p50 and
p99 for each (the median of the rounds), the events stored against the 2xx answers, and the
project/bare ratios against the targets (printed, not asserted).

Processing: N events (--events) are stored as the webhook stores them (one row each; one task wakes the
worker, as when they arrive while a task waits), then one real Celery worker (`celery -A
bench.processing_worker worker --concurrency N`: the project's app, with the processes of the worker
docker-compose.yml deploys unless --worker-concurrency says otherwise) processes them: customer identified,
message recorded, reply decided (--debounce: the wait before a turn's reply, 0 by default, as a wait is not
work), recorded and sent to a local fake Twilio API (in this process, HTTP/1.1 on 127.0.0.1), CRM outbox
rows written (the bench shop has a HubSpot connection; the push itself is excluded: the drain tasks go to a
queue no worker consumes, see bench/processing_worker.py). Twice: N first messages from new senders, then a
second message from each of them. Prints events/s from the commit of the stored events to the last event
processed and the last reply received by the fake, the ratio to the bare view's requests/s, what was
recorded against what was expected, the time spent inside each task (from the worker's log) and the SQL
statements per message (counted in-process on a sample). Only 127.0.0.1 is ever contacted; every process
started is stopped.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness, loadgen  # noqa: E402
from bench.bare import CREATE_TABLE  # noqa: E402
from bench.processing_worker import EXCLUDED_QUEUE  # noqa: E402
from bench.twilio_requests import ACCOUNT_SID, SHOP_NUMBER, WEBHOOK_PATH, Signer  # noqa: E402
from tests.fakes.twilio_api import FakeTwilioAPI  # noqa: E402

AUTH_TOKEN = "bench" + "0" * 27
TARGET_RPS_RATIO = 0.5  # webhook acceptance: at least half the bare view's requests/s
TARGET_P99_RATIO = 2.0  # with a p99 no worse than twice the bare view's
TARGET_PROCESSING_RATIO = 0.25  # processing: at least a quarter of the bare view's requests/s

# What "recorded" means on each side: one row per accepted message (the project stores the event; a
# worker processes it later).
RECORDED_SQL = {
    "bare": "SELECT count(*) FROM bench_bare_inbound",
    "project": "SELECT count(*) FROM webhooks_inboundevent WHERE kind = 'message'",
}


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    server: str  # "bare" or "project"
    shape: str  # "new" senders or "returning" customers


TARGETS = [
    Target("bare", "bare one-INSERT view", "bare", "new"),
    Target("new", "project, new sender each time", "project", "new"),
    Target("returning", "project, returning customers", "project", "returning"),
]


@dataclass
class Run:
    load: loadgen.LoadResult
    recorded: int


@dataclass
class Bench:
    """Everything a section of the bench may use: the database, the servers, the signer, wrk."""

    args: argparse.Namespace
    database_url: str
    project_env: dict
    db: object  # a psycopg connection in autocommit mode
    servers: dict  # "bare" / "project" -> harness.Gunicorn
    signer: Signer
    wrk: loadgen.Wrk
    workdir: Path
    runs: dict = field(default_factory=dict)  # Target.key -> [Run]
    processing: list = field(default_factory=list)  # [ProcessingRun]
    queries: dict = field(default_factory=dict)  # shape -> bench/processing.py queries()
    excluded_drains: int = 0
    task_times: dict = field(default_factory=dict)  # task name -> [seconds], from the worker's log

    def recorded(self, server: str) -> int:
        return self.db.execute(RECORDED_SQL[server]).fetchone()[0]

    def settled(self, server: str, timeout: float = 30) -> int:
        """The recorded count once requests still in flight when wrk stopped have finished."""
        deadline, last = time.monotonic() + timeout, -1
        while True:
            count = self.recorded(server)
            if count == last or time.monotonic() > deadline:
                return count
            last = count
            time.sleep(0.3)


def parse_args() -> argparse.Namespace:
    deployed, source = harness.deployed_gunicorn()
    concurrency, concurrency_source = harness.deployed_worker_concurrency()
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of: bare, new senders, returning customers"
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before each run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--workers", type=int, default=int(deployed["workers"]))
    parser.add_argument("--worker-class", default=deployed["worker_class"])
    parser.add_argument("--threads", type=int, default=int(deployed["threads"]))
    parser.add_argument(
        "--gunicorn-args", default="", help="more gunicorn options for both servers, e.g. '--keep-alive 5'"
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        help="CONN_MAX_AGE for both (default: the project's, from the environment)",
    )
    parser.add_argument("--returning-pool", type=int, default=500, help="senders who already wrote")
    parser.add_argument(
        "--max-rate", type=int, default=3000, help="requests/s the warm-up's pre-signed pool is sized for"
    )
    parser.add_argument("--events", type=int, default=2000, help="stored events per processing run")
    parser.add_argument(
        "--processing-timeout", type=float, default=300, help="seconds a processing run may take at most"
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=concurrency,
        help=f"processes of the Celery worker (prefork); default: {concurrency_source}'s",
    )
    parser.add_argument(
        "--debounce",
        type=float,
        default=0,
        help="AUTO_REPLY_DEBOUNCE_SECONDS for the worker: a wait before each turn's reply (production: 5), "
        "not work, so left out of the throughput by default",
    )
    parser.add_argument("--query-sample", type=int, default=55, help="messages per shape counted in-process")
    parser.add_argument("--skip-acceptance", action="store_true", help="processing only (no ratios)")
    parser.add_argument("--skip-processing", action="store_true", help="acceptance only")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_webhook")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    extra = shlex.split(args.gunicorn_args)
    if "config" in deployed:  # production's config file applies to both servers too
        extra = ["--config", deployed["config"], *extra]
    args.gunicorn = harness.GunicornSettings(
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        extra=tuple(extra),
        source=source,
    )
    return args


def main() -> int:
    args = parse_args()
    started = time.monotonic()
    # Ctrl-C and a kill run the same clean-up, even when started in the background (SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    wrk_binary = loadgen.ensure_wrk()
    try:
        with ExitStack() as stack:
            bench = prepare(args, stack, wrk_binary)
            if not args.skip_acceptance:
                measure_acceptance(bench)
                report_acceptance(bench)
            if not args.skip_processing:
                measure_processing(bench)
                report_processing(bench)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, Redis db emptied", file=sys.stderr)
        return 130
    print(f"\ntotal time: {time.monotonic() - started:.0f} s")
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def prepare(args, stack: ExitStack, wrk_binary: str) -> Bench:
    """Database, Redis, both servers (stopped when `stack` closes), and the header of the report."""
    harness.redis_flush(args.redis_url)
    stack.callback(harness.redis_flush, args.redis_url)
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-webhook-")))
    ports = {"bare": harness.free_port(), "project": harness.free_port()}

    print("preparing: database, schema, shop…", flush=True)
    harness.database_recreate(args.database_url)
    env = harness.project_env(
        database_url=args.database_url,
        redis_url=args.redis_url,
        auth_token=AUTH_TOKEN,
        conn_max_age=args.conn_max_age,
    )
    harness.manage(env, "migrate", "--noinput", "-v", "0")
    harness.manage(env, "create_shop", "--name", "Bench", "--country", "FR", "--twilio-number", SHOP_NUMBER)
    db_settings = harness.database_settings(env)
    db = stack.enter_context(harness.database_connect(args.database_url))
    db.execute(CREATE_TABLE)

    project_url = f"http://127.0.0.1:{ports['project']}"
    envs = {
        "project": {**env, "PUBLIC_BASE_URL": project_url},
        "bare": {
            **env,
            "DJANGO_SETTINGS_MODULE": "bench.bare.settings",
            "CONN_MAX_AGE": str(db_settings["CONN_MAX_AGE"] or 0),
            "CONN_HEALTH_CHECKS": "1" if db_settings["CONN_HEALTH_CHECKS"] else "0",
        },
    }
    apps = {"project": "coccinelle.wsgi:application", "bare": "bench.bare.wsgi:application"}
    servers = {}
    for name in ("bare", "project"):
        server = harness.Gunicorn(
            name=name,
            app=apps[name],
            settings=args.gunicorn,
            env=envs[name],
            port=ports[name],
            log=workdir / f"{name}.log",
        )
        servers[name] = server
        stack.push(_log_tail_on_error(server))
        stack.enter_context(server)

    bench = Bench(
        args=args,
        database_url=args.database_url,
        project_env=envs["project"],
        db=db,
        servers=servers,
        # Both servers get the same bytes, signed for the URL the project rebuilds from PUBLIC_BASE_URL.
        signer=Signer(
            auth_token=AUTH_TOKEN, url=project_url + WEBHOOK_PATH, returning_pool=args.returning_pool
        ),
        wrk=loadgen.Wrk(
            binary=wrk_binary, workdir=workdir, connections=args.connections, threads=args.wrk_threads
        ),
        workdir=workdir,
    )
    print_header(bench, db_settings, wrk_binary)
    return bench


def _log_tail_on_error(server: harness.Gunicorn):
    """An exit callback that shows the end of the server's log when something unexpected went wrong."""

    def callback(exc_type, exc, traceback):
        if exc_type is not None and not issubclass(exc_type, KeyboardInterrupt | SystemExit):
            print(f"--- last lines of the {server.name} server's log:\n{server.log_tail()}", file=sys.stderr)

    return callback


def print_header(bench: Bench, db_settings: dict, wrk_binary: str) -> None:
    args = bench.args
    now = datetime.datetime.now().astimezone()
    print()
    print(f"== bench/webhook.py  {now:%Y-%m-%d %H:%M %Z}")
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(
        f"machine: {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {platform.platform(terse=True)}, "
        f"Python {platform.python_version()}, PostgreSQL {harness.postgres_version(bench.db)} on loopback, "
        f"{loadgen.wrk_version(wrk_binary)}"
    )
    print(f"gunicorn, both servers: {' '.join(args.gunicorn.args())} (defaults from {args.gunicorn.source})")
    print(
        f"database: {bench.database_url}, CONN_MAX_AGE={db_settings['CONN_MAX_AGE']} "
        f"CONN_HEALTH_CHECKS={db_settings['CONN_HEALTH_CHECKS']} (the project's, given to both)"
    )
    print(
        f"load: wrk -t{bench.wrk.threads} -c{args.connections}, {args.warmup:g} s warm-up + "
        f"{args.duration:g} s measured per run, {args.rounds} rounds of: "
        + ", ".join(t.label for t in TARGETS)
    )
    print("requests: signed Twilio SMS webhooks (X-Twilio-Signature), a new MessageSid each")
    print(
        f"processing: {args.events} stored events per run, one Celery worker "
        f"(--concurrency {args.worker_concurrency}, prefork), reply debounce {args.debounce:g} s, "
        "replies to a fake Twilio API on 127.0.0.1, CRM outbox written, CRM push excluded\n",
        flush=True,
    )


# Section 1: webhook acceptance


def measure_acceptance(bench: Bench) -> None:
    check_answers(bench)
    seed_returning(bench)
    for round_number in range(1, bench.args.rounds + 1):
        for target in TARGETS:
            run = measure_one(bench, target)
            bench.runs.setdefault(target.key, []).append(run)
            load = run.load
            print(
                f"round {round_number}  {target.label:<30} {load.rps:8.1f} req/s  p50 {load.p50_ms:7.1f} ms  "
                f"p99 {load.p99_ms:7.1f} ms  non-2xx {load.not_ok}  recorded {run.recorded}/{load.ok} 2xx"
                + (f"  REUSED IDS {load.reused}" if load.reused else ""),
                flush=True,
            )


def check_answers(bench: Bench) -> None:
    """One signed request to each server must be answered 2xx and recorded, or nothing is measured."""
    for name, server in bench.servers.items():
        before = bench.recorded(name)
        signature, body = bench.signer.batch(1, shape="new")[0]
        status, content = harness.post(server.url + WEBHOOK_PATH, signature, body)
        if not 200 <= status < 300 or bench.settled(name) != before + 1:
            raise SystemExit(
                f"{name}: a signed webhook got {status} {content[:200]!r} and recorded "
                f"{bench.recorded(name) - before} rows\n{server.log_tail()}"
            )


def seed_returning(bench: Bench) -> None:
    """Each sender of the returning pool writes once, so that the 'returning' runs meet known customers."""
    url = bench.servers["project"].url + WEBHOOK_PATH
    requests = bench.signer.batch(bench.args.returning_pool, shape="returning")
    started = time.monotonic()
    with ThreadPoolExecutor(bench.args.connections) as pool:
        statuses = list(pool.map(lambda r: harness.post(url, *r)[0], requests))
    failed = sum(1 for s in statuses if not 200 <= s < 300)
    print(
        f"seeded {len(requests)} returning customers in {time.monotonic() - started:.1f} s"
        + (f" ({failed} not 2xx)" if failed else ""),
        flush=True,
    )


def measure_one(bench: Bench, target: Target) -> Run:
    """A warm-up, then a measured run whose pool of new messages is sized from the warm-up's rate."""
    args, server = bench.args, bench.servers[target.server]
    url = server.url + WEBHOOK_PATH
    warmup_pool = bench.signer.batch(math.ceil(args.max_rate * args.warmup), shape=target.shape)
    warm = bench.wrk.run(url, warmup_pool, args.warmup)
    pool_size = max(1000, math.ceil(warm.rps * args.duration * 2.5) + args.connections)
    measured_pool = bench.signer.batch(pool_size, shape=target.shape)
    before = bench.settled(target.server)
    load = bench.wrk.run(url, measured_pool, args.duration)
    return Run(load=load, recorded=bench.settled(target.server) - before)


def acceptance_medians(bench: Bench, key: str) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of a target: the median of its rounds."""
    runs = bench.runs[key]
    return (
        statistics.median(r.load.rps for r in runs),
        statistics.median(r.load.p50_ms for r in runs),
        statistics.median(r.load.p99_ms for r in runs),
    )


def report_acceptance(bench: Bench) -> None:
    print("\n== Webhook acceptance (median of the rounds)")
    print(f"{'':<32}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}   recorded / 2xx")
    for target in TARGETS:
        runs = bench.runs[target.key]
        rps, p50, p99 = acceptance_medians(bench, target.key)
        not_ok = sum(r.load.not_ok for r in runs)
        recorded, ok = sum(r.recorded for r in runs), sum(r.load.ok for r in runs)
        print(f"{target.label:<32}{rps:9.1f}{p50:9.1f}{p99:9.1f}{not_ok:9d}   {recorded} / {ok}")
    print(
        "(recorded can exceed the 2xx by up to the connections per run: requests in flight when wrk stops "
        "are processed but not counted)"
    )
    reused = sum(r.load.reused for runs in bench.runs.values() for r in runs)
    if reused:
        print(f"WARNING: {reused} requests reused a MessageSid: a run went over 2.5x its warm-up's rate")
    bare_rps, _, bare_p99 = acceptance_medians(bench, "bare")
    print(
        f"\nproject / bare (targets: req/s >= {TARGET_RPS_RATIO:.0%} of the bare view's, "
        f"p99 <= {TARGET_P99_RATIO:g}x the bare view's)"
    )
    for target in TARGETS[1:]:
        rps, _, p99 = acceptance_medians(bench, target.key)
        rps_ratio, p99_ratio = rps / bare_rps, p99 / bare_p99
        print(
            f"{target.label:<32} req/s {rps_ratio:6.1%} {_mark(rps_ratio >= TARGET_RPS_RATIO)}   "
            f"p99 {p99_ratio:6.1f}x {_mark(p99_ratio <= TARGET_P99_RATIO)}"
        )


def _mark(passed: bool) -> str:
    return "PASS" if passed else "MISS"


# Section 2: end-to-end processing by one worker


@dataclass
class ProcessingRun:
    label: str
    events: int
    seconds: float  # from the commit of the stored events to the last event processed or reply received
    complete: bool
    delta: dict  # what the run added: inbound, outbound, queued, outbox rows, fake Twilio requests…


class RecordingTwilio(FakeTwilioAPI):
    """The tests' fake Twilio Messages API, speaking HTTP/1.1 (keep-alive, as api.twilio.com does) and
    noting when each request arrived."""

    def __init__(self):
        super().__init__(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
        handler = self._server.RequestHandlerClass
        handler.protocol_version = "HTTP/1.1"
        # Headers and body are two writes: without this, Nagle's algorithm holds the body back until the
        # client acknowledges the headers (tens of milliseconds with delayed ACKs), which Twilio's servers
        # do not do to their clients.
        handler.disable_nagle_algorithm = True
        self.times: list[float] = []

    def handle(self, request):
        answer = super().handle(request)
        self.times.append(time.time())
        return answer


TOTALS_SQL = """
SELECT
  (SELECT count(*) FROM customers_customer),
  (SELECT count(*) FROM customers_interaction WHERE direction = 'inbound'),
  (SELECT count(*) FROM customers_interaction WHERE direction = 'outbound'),
  (SELECT count(*) FROM customers_interaction
   WHERE direction = 'outbound' AND status = 'queued' AND provider_message_id IS NULL),
  (SELECT count(*) FROM crm_backends_syncitem WHERE kind = 'customer'),
  (SELECT count(*) FROM crm_backends_syncitem WHERE kind = 'interaction'),
  (SELECT count(*) FROM customers_interaction
   WHERE direction = 'inbound' AND NOT raw_payload ? '_turn_decided')
"""
TOTALS = (
    "customers",
    "inbound",
    "outbound",
    "queued",
    "outbox_customers",
    "outbox_interactions",
    "undecided",
)
PENDING_SQL = "SELECT count(*) FROM webhooks_inboundevent WHERE state = 'pending'"
EVENTS_SQL = """
SELECT count(*) FILTER (WHERE state = 'processed'),
       count(*) FILTER (WHERE state NOT IN ('processed', 'pending')),
       extract(epoch FROM max(processed_at))
FROM webhooks_inboundevent WHERE provider = 'twilio' AND event_key = ANY(%s)
"""


def measure_processing(bench: Bench) -> None:
    args = bench.args
    print(f"\n== Processing: {args.events} stored events per run, one worker", flush=True)
    # A clean slate: the acceptance section stored events (and queued their tasks) that no worker ran.
    harness.redis_flush(args.redis_url)
    bench.db.execute("DELETE FROM webhooks_inboundevent")
    with RecordingTwilio() as fake:
        env = {
            **bench.project_env,
            "TWILIO_API_BASE": fake.url,
            "AUTO_REPLY_DEBOUNCE_SECONDS": str(args.debounce),
        }
        connected = harness.django_json(env, "connect")
        print(f"CRM: HubSpot connection {connected['connection']} on the bench shop, pushing")
        senders = bench.signer.new_senders(args.events)
        log = bench.workdir / "worker.log"
        worker = harness.CeleryWorker(
            app="bench.processing_worker", env=env, log=log, concurrency=args.worker_concurrency
        )
        started = time.monotonic()
        with worker:
            print(f"worker ready in {time.monotonic() - started:.1f} s: {' '.join(worker.command()[1:])}")
            # First messages from new senders, then a second message from each of them.
            for label in ("new senders", "returning customers"):
                forms = [bench.signer.form(sender) for sender in senders]
                run = process_run(bench, env, fake, label, forms)
                bench.processing.append(run)
                rate = run.events / run.seconds
                print(
                    f"{label:<22} {run.events} events in {run.seconds:6.2f} s = {rate:7.1f} events/s"
                    + ("" if run.complete else "  INCOMPLETE (timed out)"),
                    flush=True,
                )
        bench.task_times = task_times(log)
        bench.excluded_drains = harness.redis_queue_length(args.redis_url, EXCLUDED_QUEUE)
        # SQL per message, counted in-process on a sample: new senders, then their second message.
        sample = bench.signer.new_senders(args.query_sample)
        for shape, forms in (
            ("new", [bench.signer.form(s) for s in sample]),
            ("returning", [bench.signer.form(s) for s in sample]),
        ):
            path = bench.workdir / f"sample-{shape}.json"
            path.write_text(json.dumps(forms))
            bench.queries[shape] = harness.django_json(env, "queries", str(path))
    harness.redis_flush(args.redis_url)


def process_run(bench: Bench, env: dict, fake: RecordingTwilio, label: str, forms: list) -> ProcessingRun:
    """Store the events (the worker starts on them at once) and wait until every event is processed and
    every reply recorded has reached the fake Twilio."""
    args = bench.args
    before, requests_before = _totals(bench), len(fake.times)
    path = bench.workdir / "forms.json"
    path.write_text(json.dumps(forms))
    stored = harness.django_json(env, "store", str(path))
    keys = [form["MessageSid"] for form in forms]
    deadline, complete = time.monotonic() + args.processing_timeout, False
    # Light polling (the times come from the rows and the fake, not from here): first the pending
    # events (a partial index), then whether every reply recorded has been sent.
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if bench.db.execute(PENDING_SQL).fetchone()[0]:
            continue
        now = _totals(bench)
        # Every message is a turn of its own here (one message per sender and run): each is decided.
        decided = now["undecided"] == 0
        if (
            decided
            and now["queued"] == 0
            and len(fake.times) - requests_before >= now["outbound"] - before["outbound"]
        ):
            complete = True
            break
    processed, failed, last_processed = bench.db.execute(EVENTS_SQL, [keys]).fetchone()
    now = _totals(bench)
    delta = {name: now[name] - before[name] for name in TOTALS if name not in ("queued", "undecided")}
    delta.update(
        queued=now["queued"],
        processed=processed,
        failed=failed,
        twilio_requests=len(fake.times) - requests_before,
        stored=stored["stored"],
    )
    last = max([float(last_processed or 0), *fake.times[requests_before:]])
    return ProcessingRun(label, len(keys), last - stored["committed_at"], complete, delta)


_TASK_DONE = re.compile(r"Task ([\w.]+)\[[^\]]+\] succeeded in ([0-9.e-]+)s")


def task_times(log: Path) -> dict[str, list[float]]:
    """How long each task took inside the worker's pool process, as Celery logs it (INFO)."""
    times: dict[str, list[float]] = {}
    for match in _TASK_DONE.finditer(log.read_text(errors="replace")):
        times.setdefault(match[1].rsplit(".", 1)[-1], []).append(float(match[2]))
    return times


def _totals(bench: Bench) -> dict:
    return dict(zip(TOTALS, bench.db.execute(TOTALS_SQL).fetchone(), strict=True))


def report_processing(bench: Bench) -> None:
    print(f"\n== End-to-end processing (one Celery worker, --concurrency {bench.args.worker_concurrency})")
    bare_rps = acceptance_medians(bench, "bare")[0] if "bare" in bench.runs else None
    print(f"{'':<24}{'events':>8}{'seconds':>9}{'events/s':>10}" + (f"{'of bare':>10}" if bare_rps else ""))
    for run in bench.processing:
        rate = run.events / run.seconds
        ratio = ""
        if bare_rps:
            ratio = f"{rate / bare_rps:9.1%} {_mark(rate / bare_rps >= TARGET_PROCESSING_RATIO)}"
        print(f"{run.label:<24}{run.events:8d}{run.seconds:9.2f}{rate:10.1f}{ratio}")
    if bare_rps:
        print(
            f"(target: >= {TARGET_PROCESSING_RATIO:.0%} of the bare view's {bare_rps:.1f} req/s, "
            f"i.e. {TARGET_PROCESSING_RATIO * bare_rps:.0f} events/s)"
        )
    print("what each run recorded:")
    for run in bench.processing:
        d = run.delta
        print(
            f"  {run.label}: events processed {d['processed']}/{run.events} (failed or ignored "
            f"{d['failed']}), new customers {d['customers']}, inbound recorded {d['inbound']}, replies "
            f"recorded {d['outbound']}, received by the fake Twilio {d['twilio_requests']}, still queued "
            f"{d['queued']}; CRM outbox rows added: interactions {d['outbox_interactions']} (inbound + "
            f"replies = {d['inbound'] + d['outbound']}), customers {d['outbox_customers']}"
        )
    print(f"CRM drain tasks waiting in the excluded queue ({EXCLUDED_QUEUE}): {bench.excluded_drains}")
    busy = sum(sum(times) for times in bench.task_times.values())
    wall = sum(run.seconds for run in bench.processing)
    print(
        "time inside tasks (the worker's log): "
        + ", ".join(
            f"{name} {len(times)} x median {statistics.median(times) * 1000:.1f} ms"
            for name, times in sorted(bench.task_times.items())
        )
        + f"; {busy / bench.args.worker_concurrency:.1f} s per worker process of the runs' {wall:.1f} s "
        "(the rest: Celery receiving, acknowledging, logging)"
    )
    for shape, counts in bench.queries.items():
        print(
            f"SQL statements per message, {shape} sender: {counts['alone']:g} processed alone, "
            f"{counts['batch']:.1f} in a batch of {counts['batch_size']}; its turn's decision and "
            f"reply sent: {counts['turns']:.1f} a turn in a task of {counts['turns_count']} "
            "(in-process, CaptureQueriesContext, BEGIN/SAVEPOINT/COMMIT included)"
        )


if __name__ == "__main__":
    sys.exit(main())
