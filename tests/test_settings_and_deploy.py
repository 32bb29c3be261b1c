"""The settings read from the environment, and the production compose file, behave as documented."""

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


def test_embedded_default_is_sqlite_with_eager_tasks():
    result = settings_with()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",
        "memory://localhost/",
        "True",
        "None",
    ]


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
    assert set(compose["volumes"]) == {"pgdata", "redisdata"}
    assert services["db"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]


def test_signature_checks_cannot_be_switched_off_outside_debug():
    result = settings_with(DEBUG="0", SECRET_KEY="x" * 50, WEBHOOK_VERIFY_SIGNATURES="0")
    assert result.returncode != 0 and "WEBHOOK_VERIFY_SIGNATURES=0 is refused" in result.stderr
    assert settings_with(DEBUG="1", WEBHOOK_VERIFY_SIGNATURES="0").returncode == 0
