"""coccinelle.http, the one way out: the environment's proxy settings still apply although requests no
longer reads them on every call (they are read once per process and host)."""

import pytest

from coccinelle import http
from tests.fakes import FakeServer


class Answers(FakeServer):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def handle(self, request):
        return 200, {"served_by": self.name, "host": request.headers.get("Host")}, {}


@pytest.fixture(autouse=True)
def _fresh_environment_settings():
    http._environment_settings.cache_clear()
    yield
    http._environment_settings.cache_clear()


def test_a_proxy_in_the_environment_carries_the_call(monkeypatch):
    with Answers("proxy") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        # A host that does not exist: only the proxy can answer for it.
        answer = http.request("GET", "http://vendor.invalid/v1/ping", timeout=5).json()
    assert answer == {"served_by": "proxy", "host": "vendor.invalid"}


def test_no_proxy_hosts_are_called_directly(monkeypatch):
    with Answers("proxy") as proxy, Answers("vendor") as vendor:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        answer = http.request("GET", f"{vendor.url}/v1/ping", timeout=5).json()
    assert answer["served_by"] == "vendor"
    assert proxy.requests == []


def test_a_call_that_names_its_own_proxies_keeps_them(monkeypatch):
    with Answers("proxy") as proxy, Answers("vendor") as vendor:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        answer = http.request("GET", f"{vendor.url}/v1/ping", timeout=5, proxies={"http": None}).json()
    assert answer["served_by"] == "vendor"


def test_a_ca_bundle_in_the_environment_is_the_one_calls_verify_with(monkeypatch, tmp_path):
    bundle = tmp_path / "company-ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert http.environment_settings("https://api.twilio.com/2010-04-01/x")["verify"] == str(bundle)
