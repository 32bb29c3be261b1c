"""What the webhook benches stand on: a throwaway PostgreSQL database, a Redis db, the environment the
project runs with, and gunicorn servers that are always stopped.

Every address is checked to be on this machine: the benches only ever talk to loopback.
"""

import json
import os
import re
import runpy
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def require_local(url: str) -> str:
    host = urlsplit(url).hostname
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"{url}: the bench only talks to this machine (127.0.0.1), not {host}")
    return url


# PostgreSQL


def database_recreate(url: str) -> None:
    """Drop and create the database of `url` (connecting to the server's `postgres` database)."""
    import psycopg

    parts = urlsplit(require_local(url))
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or not name.startswith("bench"):
        raise SystemExit(f"{url}: the bench only drops databases named bench…, not {name!r}")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def postgres_version(conn) -> str:
    return conn.execute("SHOW server_version").fetchone()[0]


# Redis


def redis_flush(url: str) -> None:
    """Empty the bench's own Redis db, so that tasks enqueued by the webhook do not pile up."""
    import redis

    client = redis.Redis.from_url(require_local(url), socket_timeout=5)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError as exc:
        raise SystemExit(f"Redis at {url} is not reachable ({exc}); start redis-server first") from None
    finally:
        client.close()


# The project


def project_env(*, database_url: str, redis_url: str, auth_token: str, conn_max_age: int | None) -> dict:
    """The environment of a production-like Coccinelle on the bench's database and Redis db.

    Outgoing API hosts point at a closed local port, so nothing can leave the machine; the LLM engine is
    off. CONN_MAX_AGE comes from the caller's environment unless `conn_max_age` is given.
    """
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="coccinelle.settings",
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=require_local(database_url),
        REDIS_URL=require_local(redis_url),
        TWILIO_AUTH_TOKEN=auth_token,
        TWILIO_ACCOUNT_SID="AC" + "b3" * 16,
        TWILIO_API_BASE="http://127.0.0.1:9",
        WHATSAPP_GRAPH_BASE="http://127.0.0.1:9",
        LLM_PROVIDER="",
    )
    for name in ("PUBLIC_BASE_URL", "USE_PROXY_HEADERS", "WEBHOOK_VERIFY_SIGNATURES", "HUBSPOT_ACCESS_TOKEN"):
        env.pop(name, None)
    if conn_max_age is not None:
        env["CONN_MAX_AGE"] = str(conn_max_age)
    return env


def manage(env: dict, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
    return out.stdout


def database_settings(env: dict) -> dict:
    """CONN_MAX_AGE and CONN_HEALTH_CHECKS as the project's settings resolve them in `env`."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; "
        "print(json.dumps({'CONN_MAX_AGE': d.get('CONN_MAX_AGE', 0), "
        "'CONN_HEALTH_CHECKS': d.get('CONN_HEALTH_CHECKS', False)}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# gunicorn


@dataclass(frozen=True)
class GunicornSettings:
    workers: int
    worker_class: str
    threads: int
    extra: tuple[str, ...] = ()  # further options given to both servers (e.g. --config, --keep-alive)
    source: str = ""

    def args(self) -> list[str]:
        return [
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            *self.extra,
        ]


_GUNICORN_OPTIONS = {
    "-w": "workers",
    "--workers": "workers",
    "-k": "worker_class",
    "--worker-class": "worker_class",
    "--threads": "threads",
    "-c": "config",
    "--config": "config",
}


def deployed_gunicorn() -> tuple[dict, str]:
    """The workers, worker class and threads production runs gunicorn with, and where they were read.

    From the gunicorn command of the Dockerfile and of docker-compose.yml's web service (the compose one
    wins: it overrides the image's CMD), then from the config file it names (or ./gunicorn.conf.py,
    which gunicorn reads by itself), then gunicorn's own defaults.
    """
    found, sources = {}, []
    for name in ("Dockerfile", "docker-compose.yml"):
        options = _gunicorn_command_options(ROOT / name)
        if options:
            found.update(options)
            sources.append(name)
    config = found.pop("config", "")
    path = ROOT / config if config else ROOT / "gunicorn.conf.py"
    if path.is_file():
        namespace = runpy.run_path(str(path))
        for key in ("workers", "worker_class", "threads"):
            if key in namespace and key not in found:
                found[key] = namespace[key]
        found["config"] = str(path)
        sources.append(path.name)
    settings = {"workers": 1, "worker_class": "sync", "threads": 1, **found}
    return settings, " + ".join(sources) or "gunicorn's defaults"


def deployed_worker_concurrency() -> tuple[int, str]:
    """The processes of the Celery worker docker-compose.yml runs (`--concurrency`), and where it was
    read; else Celery's own default, one per core."""
    try:
        text = (ROOT / "docker-compose.yml").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        if "celery" in line and " worker" in line:
            found = re.search(r"--concurrency[= ](\d+)", line)
            if found:
                return int(found.group(1)), "docker-compose.yml"
    return os.cpu_count() or 1, "Celery's default (one process per core)"


def _gunicorn_command_options(path: Path) -> dict:
    try:
        text = path.read_text()
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        if "gunicorn" not in line or "wsgi" not in line:
            continue
        command = re.sub(r"^\s*CMD\s+", "", line)
        if command.lstrip().startswith("["):
            argv = json.loads(command)
        else:
            argv = shlex.split(command[command.index("gunicorn") :].rstrip(" \"'"), posix=True)
        for i, arg in enumerate(argv):
            name, _, value = arg.partition("=")
            if name in _GUNICORN_OPTIONS and (value or i + 1 < len(argv)):
                found[_GUNICORN_OPTIONS[name]] = value or argv[i + 1]
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BenchProcess(ABC):
    """A process of the bench, started in its own session and always stopped, whatever happens: a polite
    signal (`stop_signal`), then its process group if it lingers. Subclasses give the command, say when
    it is ready (`_ready`) and name it (`label`)."""

    stop_signal = signal.SIGTERM
    stop_timeout = 20
    label = "process"
    env: dict
    log: Path
    process: subprocess.Popen | None = None

    @abstractmethod
    def command(self) -> list[str]: ...

    @abstractmethod
    def _ready(self) -> bool: ...

    def __enter__(self):
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.label} exited ({self.process.returncode}):\n{self.log_tail()}")
            if self._ready():
                return
            time.sleep(0.2)
        raise SystemExit(f"{self.label} was not ready in {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(self.stop_signal)
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the session it was started in, nothing else
            process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Gunicorn(BenchProcess):
    """One gunicorn server on 127.0.0.1."""

    stop_signal = signal.SIGINT  # gunicorn's quick shutdown: the master stops its workers
    stop_timeout = 15

    def __init__(self, *, name: str, app: str, settings: GunicornSettings, env: dict, port: int, log: Path):
        self.name, self.app, self.settings = name, app, settings
        self.env, self.port, self.log = env, port, log
        self.label = f"{name} server"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", self.app, "--bind", f"127.0.0.1:{self.port}"] + (
            self.settings.args()
        )

    def _ready(self) -> bool:
        try:
            urllib.request.urlopen(self.url + "/", timeout=2).close()
            return True
        except urllib.error.HTTPError:
            return True  # any answer means it is serving
        except OSError:
            return False


def post(url: str, signature: str, body: str) -> tuple[int, bytes]:
    """One signed form POST (for sanity checks and seeding), as Twilio sends it."""
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def django_json(env: dict, *args: str) -> dict:
    """Run bench/processing.py (Django, with `env`) and read the JSON line it prints."""
    out = subprocess.run(
        [sys.executable, "bench/processing.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise SystemExit(f"bench/processing.py {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
    return json.loads(line.removeprefix("BENCH_JSON "))


# Celery


class CeleryWorker(BenchProcess):
    """One `celery worker` on the bench's Redis db (stopped warm: the task in hand finishes)."""

    label = "the Celery worker"

    def __init__(self, *, app: str, env: dict, log: Path, concurrency: int = 1):
        self.app, self.env, self.log, self.concurrency = app, env, log, concurrency

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", self.app, "worker",
            "--concurrency", str(self.concurrency), "--loglevel", "INFO", "--hostname", "bench@%h",
        ]  # fmt: skip

    def __enter__(self):
        require_local(self.env["REDIS_URL"])
        return super().__enter__()

    def _ready(self) -> bool:
        return " ready." in self.log.read_text(errors="replace")


def redis_queue_length(url: str, queue: str) -> int:
    import redis

    client = redis.Redis.from_url(require_local(url), socket_timeout=5)
    try:
        return client.llen(queue)
    finally:
        client.close()
