"""Real processes for end-to-end tests: a private redis-server, a Celery worker, manage.py commands, and
`scripts/run` itself.

Each runs against the test database (committed data, so tests using these need transaction=True), except
`scripts/run`, which sets up its own (a temporary SQLite file in its test).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def app_env(redis_url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY", "DJANGO_"))}
    env.update(DATABASE_URL=database_url(), REDIS_URL=redis_url, DJANGO_SETTINGS_MODULE="coccinelle.settings")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


@contextmanager
def private_redis(port: int):
    """A redis-server of our own, so that stopping it touches nothing else on the machine."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


class Worker:
    """`celery -A coccinelle worker` (with beat when asked); its output is kept for failure messages."""

    def __init__(self, env: dict, *, beat: bool, workdir: Path):
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "coccinelle",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
        ]
        if beat:
            args += ["--beat", "--schedule", str(workdir / "beat-schedule")]
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(" ready." in line for line in self.lines):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("the Celery worker did not start:\n" + self.output())

    def output(self) -> str:
        return "\n".join(self.lines[-60:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@contextmanager
def celery_worker(env: dict, *, beat: bool, workdir: Path):
    worker = Worker(env, beat=beat, workdir=workdir)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def wait_for(predicate, *, timeout: float = 60.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class RunScript:
    """`scripts/run` in a session of its own, its output kept for failure messages. Every process it
    starts inherits a marker in its environment, so that `survivors()` finds them all, grandchildren
    included, wherever they moved (Linux's /proc)."""

    def __init__(self, env: dict):
        self.marker = f"COCCINELLE_TEST_RUN={uuid.uuid4().hex}"
        name, value = self.marker.split("=")
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / "run")],
            cwd=ROOT,
            env={**env, name: value},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # like a terminal: Ctrl-C goes to the script's process group
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def wait_for_line(self, text: str, timeout: float = 60.0) -> None:
        def printed():
            return any(text in line for line in self.lines)

        wait_for(lambda: printed() or self.process.poll() is not None, timeout=timeout, interval=0.1)
        if not printed():
            raise RuntimeError(f"scripts/run never printed {text!r}:\n" + self.output())

    def output(self) -> str:
        return "\n".join(self.lines[-80:])

    def survivors(self) -> list[int]:
        needle = self.marker.encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if needle in (entry / "environ").read_bytes().split(b"\0"):
                        found.append(int(entry.name))
                except OSError:
                    continue  # gone meanwhile, or not ours to read
        return found

    def kill_everything(self) -> None:
        """Last resort after a failed test: nothing of this run may outlive it."""
        for pid in self.survivors():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
