"""HTTPS settings from the environment, `check --deploy` clean in production, and /healthz reachable by
the container's own health check (issue 8, item 13); the sign-in throttling settings (item 12)."""

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, connection

ROOT = Path(__file__).resolve().parent.parent
# Behind its TLS proxy, as README's Production section describes it.
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "crm.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://crm.example.com",
    "USE_PROXY_HEADERS": "1",
    "DATABASE_URL": "postgres://coccinelle:coccinelle@db:5432/coccinelle",
    "REDIS_URL": "redis://redis:6379/0",
    "CRM_ENCRYPTION_KEYS": secrets.token_urlsafe(32),
}
# Warnings that stay on purpose, each explained in the README.
EXPLAINED = {"security.W021"}  # SECURE_HSTS_PRELOAD off: preloading binds the whole domain, opt in
SHOW = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'coccinelle.settings'; django.setup();"
    "from django.conf import settings as s;"
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
    " s.SECURE_HSTS_PRELOAD, s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
)


def run(args, **env):
    # No .env is read for these: the variables given are the whole environment.
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run(
        [sys.executable, *args], env={**base, **env}, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def settings_with(**env) -> list[str]:
    result = run(["-c", SHOW], **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_check_deploy_in_production_warns_only_about_what_the_readme_explains():
    result = run(["manage.py", "check", "--deploy"], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    warnings = set(re.findall(r"\(([\w.]+\.W\d+)\)", result.stdout + result.stderr))
    assert warnings <= EXPLAINED, result.stdout + result.stderr
    readme = (ROOT / "README.md").read_text()
    assert all(warning in readme for warning in EXPLAINED)


def test_https_is_on_by_default_behind_the_proxy_in_production():
    assert settings_with(**PRODUCTION)[:4] == ["True", "31536000", "True", "False"]


def test_https_stays_off_without_a_proxy_or_in_debug():
    no_proxy = {**PRODUCTION, "USE_PROXY_HEADERS": "0"}
    assert settings_with(**no_proxy)[:4] == ["False", "0", "False", "False"]
    assert settings_with(USE_PROXY_HEADERS="1")[:4] == ["False", "0", "False", "False"]  # DEBUG


def test_https_settings_follow_the_environment_and_blank_means_the_default():
    chosen = {"SECURE_SSL_REDIRECT": "0", "SECURE_HSTS_SECONDS": "3600", "SECURE_HSTS_PRELOAD": "1"}
    assert settings_with(**PRODUCTION, **chosen)[:4] == ["False", "3600", "True", "True"]
    blank = {"SECURE_SSL_REDIRECT": "", "SECURE_HSTS_SECONDS": "", "SECURE_HSTS_INCLUDE_SUBDOMAINS": ""}
    assert settings_with(**PRODUCTION, **blank)[:4] == ["True", "31536000", "True", "False"]


def test_sign_in_throttling_settings_come_from_the_environment():
    assert settings_with()[4:] == ["5", "0:15:00"]
    assert settings_with(LOGIN_FAILURE_LIMIT="8", LOGIN_LOCKOUT_MINUTES="0")[4:] == ["8", "None"]


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["crm.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = 31536000, True


@pytest.mark.django_db
def test_healthz_answers_the_container_health_check_over_plain_http(client, production):
    # What docker-compose's health check sends: http://127.0.0.1:8000/healthz, no proxy header.
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_everything_else_is_redirected_to_https_with_hsts(client, production):
    response = client.get("/accounts/login/", HTTP_HOST="crm.example.com")
    assert response.status_code == 301 and response["Location"] == "https://crm.example.com/accounts/login/"
    secure = client.get("/accounts/login/", HTTP_HOST="crm.example.com", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert (
        client.get("/accounts/login/", HTTP_HOST="evil.example", HTTP_X_FORWARDED_PROTO="https").status_code
        == 400
    )


def test_healthz_says_so_when_the_database_is_unreachable(client, production, monkeypatch):
    def unreachable():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", unreachable)
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 503 and response.json() == {"status": "database unreachable"}
