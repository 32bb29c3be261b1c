"""`scripts/run`, the one command, behaves like production: the web server, a Celery worker and beat
start on the embedded default (a SQLite file, a folder for a broker); a signed WhatsApp message posted to
the web server is recorded and answered by the worker through the (local fake) Graph API; Ctrl-C stops
every process the command started.

The run gets its own SQLite file and broker folder, never the developer's db.sqlite3 or .celery-broker.
"""

import hashlib
import hmac
import json
import os
import signal
import sqlite3
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from customers.management.commands.seed_demo import WHATSAPP_PHONE_NUMBER_ID
from tests import processes
from tests.fakes.meta_graph import FakeMetaGraph

APP_SECRET = "run-test-app-secret"
SENDER = "33611223399"

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds its processes in /proc"),
    pytest.mark.skipif(not (processes.ROOT / ".venv/bin/python").exists(), reason="scripts/run uses .venv"),
]


def signed_whatsapp_message(text: str) -> tuple[bytes, str]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33757000000", "phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Julie"}, "wa_id": SENDER}],
        "messages": [
            {
                "from": SENDER,
                "id": f"wamid.run-test-{time.time_ns()}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()
    return body, "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def post(url: str, body: bytes, signature: str) -> int:
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - our local server
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        return response.status


def recorded(db: Path, wamid: str) -> bool:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as connection:
        query = "SELECT 1 FROM customers_interaction WHERE provider_message_id = ?"
        return connection.execute(query, [wamid]).fetchone() is not None


def test_the_run_command_serves_answers_through_its_worker_and_stops_everything(tmp_path):
    port = processes.free_port()
    with FakeMetaGraph(access_token="fake-meta-token") as graph:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "SKIP_INSTALL": "1",  # the suite runs from the installed .venv
            "PORT": str(port),
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CELERY_BROKER_DIR": str(tmp_path / "broker"),
            "REDIS_URL": "",  # the embedded default, whatever a local .env says
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_ACCESS_TOKEN": "fake-meta-token",
            "WHATSAPP_GRAPH_BASE": graph.url,
            "LLM_PROVIDER": "",
        }
        run = processes.RunScript(env)
        try:
            run.wait_for_line("Coccinelle is running", timeout=60)
            run.wait_for_line(" ready.", timeout=30)  # the worker
            login = urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=20)  # noqa: S310
            assert login.status == 200 and any(line.startswith("Login: username demo") for line in run.lines)

            body, signature = signed_whatsapp_message("Bonjour, vous ouvrez dimanche ?")
            assert post(f"http://127.0.0.1:{port}/webhooks/whatsapp/", body, signature) == 200
            wamid = json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]

            # The web process answered at once; the reply goes out from the worker, through the Graph API.
            answered = processes.wait_for(
                lambda: any(r.json().get("to") == SENDER for r in graph.requests), timeout=45
            )
            assert answered, "no reply reached the Graph API; scripts/run said:\n" + run.output()
            reply = next(r.json() for r in graph.requests if r.json().get("to") == SENDER)
            assert reply["text"]["body"].strip()
            run.wait_for_line("succeeded", timeout=15)  # the worker's log: "Task webhooks.tasks.… succeeded"
            assert any("Task webhooks.tasks." in line and "succeeded" in line for line in run.lines)
            assert recorded(tmp_path / "db.sqlite3", wamid)

            assert len(run.survivors()) >= 4  # the script, runserver (and its reloader), the worker, beat
            os.killpg(run.process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground group
            run.process.wait(timeout=30)
            gone = processes.wait_for(lambda: not run.survivors(), timeout=15)
            assert gone, f"still running after the run command stopped: {run.survivors()}\n{run.output()}"
            assert "Stopping the web server, the worker and beat" in run.output()
        finally:
            run.kill_everything()
