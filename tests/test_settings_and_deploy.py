"""The settings read from the environment, and the production compose file, behave as documented."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='coccinelle.settings'; django.setup();"
    "from django.conf import settings as s;"
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.DEBUG,"
    " getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
)


def settings_with(**env):
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], env={**base, **env}, cwd=ROOT, capture_output=True, text=True
    )
    return result


def test_embedded_default_is_sqlite_with_a_folder_broker_and_no_eager_tasks():
    result = settings_with()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "False",  # a worker runs the tasks, never the web request (scripts/run starts one)
        "filesystem://localhost/",
        "True",
        "None",
    ]


PRINT_CELERY = (
    "import django, json, os; os.environ['DJANGO_SETTINGS_MODULE']='coccinelle.settings'; django.setup();"
    "from django.conf import settings as s; from coccinelle.celery import app;"
    "print(json.dumps({'options': s.DATABASES['default'].get('OPTIONS', {}),"
    " 'transport': app.conf.broker_transport_options, 'eager': app.conf.task_always_eager,"
    " 'schedule': app.conf.beat_schedule_filename, 'remote_control': app.conf.worker_enable_remote_control}))"
)


def celery_settings_with(**env):
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_CELERY], env={**base, **env}, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_folder_broker_and_beat_schedule_live_under_celery_broker_dir(tmp_path):
    broker = tmp_path / "broker"
    found = celery_settings_with(CELERY_BROKER_DIR=str(broker))
    queue = str(broker / "queue")
    assert found["transport"]["data_folder_in"] == found["transport"]["data_folder_out"] == queue
    assert found["transport"]["control_folder"] == str(broker / "control")
    assert (broker / "queue").is_dir() and (broker / "control").is_dir()  # kombu needs them to exist
    assert found["schedule"] == str(broker / "beat-schedule") and found["eager"] is False
    assert found["remote_control"] is False
    # Eager only on demand.
    assert celery_settings_with(CELERY_BROKER_DIR=str(broker), CELERY_TASK_ALWAYS_EAGER="1")["eager"] is True


def test_sqlite_is_shared_safely_by_the_web_server_worker_and_beat(tmp_path):
    found = celery_settings_with(
        CELERY_BROKER_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3"
    )
    assert found["options"]["transaction_mode"] == "IMMEDIATE" and found["options"]["timeout"] == 20
    assert "journal_mode=WAL" in found["options"]["init_command"]


def test_database_and_redis_urls_switch_to_postgres_and_a_broker():
    result = settings_with(DATABASE_URL="postgres://u@db:5432/c", REDIS_URL="redis://redis:6379/0")
    assert result.stdout.split()[:3] == ["django.db.backends.postgresql", "False", "redis://redis:6379/0"]


def test_secret_key_is_required_when_debug_is_off():
    result = settings_with(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert settings_with(DEBUG="0", SECRET_KEY="x" * 50).returncode == 0


def test_proxy_headers_on_demand():
    result = settings_with(USE_PROXY_HEADERS="1")
    assert "('HTTP_X_FORWARDED_PROTO', 'https')" in result.stdout


def test_env_example_documents_every_setting_read():
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    source = (ROOT / "coccinelle" / "settings.py").read_text()
    import re

    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))
    assert read <= documented, f"undocumented: {sorted(read - documented)}"


def test_compose_describes_the_production_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "db", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, name
        assert "image" in service or "build" in service, name
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A coccinelle worker")
    assert services["beat"]["command"].startswith("celery -A coccinelle beat")
    assert services["web"]["environment"]["REDIS_URL"].startswith("redis://redis")
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "media"}
    assert services["db"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    # The worker downloads the media the web app serves: one volume, one MEDIA_ROOT, in both.
    for name in ("web", "worker"):
        assert services[name]["volumes"] == ["media:/data/media"], name
        assert services[name]["environment"]["MEDIA_ROOT"] == "/data/media", name


def test_signature_checks_cannot_be_switched_off_outside_debug():
    result = settings_with(DEBUG="0", SECRET_KEY="x" * 50, WEBHOOK_VERIFY_SIGNATURES="0")
    assert result.returncode != 0 and "WEBHOOK_VERIFY_SIGNATURES=0 is refused" in result.stderr
    assert settings_with(DEBUG="1", WEBHOOK_VERIFY_SIGNATURES="0").returncode == 0


CONCURRENT_WRITERS = """
import os, threading, django
os.environ['DJANGO_SETTINGS_MODULE'] = 'coccinelle.settings'
django.setup()
from django.db import connection, connections, transaction
with connection.cursor() as c:
    c.execute('CREATE TABLE counter (id integer primary key, n integer)')
    c.execute('INSERT INTO counter VALUES (1, 0)')
    c.execute('PRAGMA journal_mode')
    print(c.fetchone()[0])
errors = []
def work():
    try:
        for _ in range(25):
            with transaction.atomic():  # read, then write: the upgrade SQLite refuses at once by default
                with connection.cursor() as c:
                    c.execute('SELECT n FROM counter WHERE id = 1')
                    n = c.fetchone()[0]
                    c.execute('UPDATE counter SET n = %s WHERE id = 1', [n + 1])
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connections.close_all()
threads = [threading.Thread(target=work) for _ in range(6)]
[t.start() for t in threads]
[t.join() for t in threads]
with connection.cursor() as c:
    c.execute('SELECT n FROM counter WHERE id = 1')
    print(c.fetchone()[0], errors)
"""


def test_concurrent_read_then_write_transactions_on_sqlite_never_say_database_is_locked(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "CELERY_BROKER_DIR": str(tmp_path / "broker")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/db.sqlite3"
    result = subprocess.run(
        [sys.executable, "-c", CONCURRENT_WRITERS], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    journal, total = result.stdout.splitlines()[-2:]
    assert journal == "wal"
    assert total == "150 []", total  # every increment kept, no "database is locked"
