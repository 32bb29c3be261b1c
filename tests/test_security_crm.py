"""Security issue #8, CRM items: where credentials may go (3), what an owner reads back (4), who acts
on a connection (6), odd vendor answers and bad options (8), links into the CRM (9).

"Attacker" and "internal service" servers are local loopback servers that record what reaches them.
The fakes' 127.0.0.1 is allowed only where a test says so (CRM_ALLOWED_HOSTS), as ops would for a fake;
`localhost` is never allowed, so a server addressed by that name stands for a host nobody allowed.
"""

import json

import pytest

from crm_backends import crypto, ratelimit, transport
from crm_backends.models import CrmConnection, CustomerSync, SyncItem
from crm_backends.registry import backend_for
from crm_backends.services import sync_drain
from customers.models import Membership
from customers.services import membership_add
from tests.fakes import FakeServer
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import FakeSalesforce

CHANGELIST = "/admin/crm_backends/crmconnection/"
QUEUE = "/admin/crm_backends/syncitem/"
INSTALL_TOKEN = "pat-na1-install-wide-0000"
INSTALL_SECRET = "sf-install-client-secret-0000"
SF_SECRETS = {"client_id": "sf-client", "client_secret": "sf-secret", "refresh_token": "sf-refresh"}


class Recorder(FakeServer):
    """Records every request and gives the same answer to all: an attacker's server, an internal
    service, or a CRM host that answers oddly."""

    def __init__(self, status=200, body=None, headers=None):
        super().__init__()
        self.status, self.body, self.headers = status, {} if body is None else body, headers or {}

    def handle(self, request):
        return self.status, self.body, dict(self.headers)

    @property
    def by_name(self):
        """The same server, addressed by a host name nobody allowed."""
        return self.url.replace("127.0.0.1", "localhost")


@pytest.fixture
def recorder():
    servers = []

    def start(status=200, body=None, headers=None):
        server = Recorder(status, body, headers).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def fakes_allowed(settings):
    settings.CRM_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def install_credentials(settings):
    settings.HUBSPOT_ACCESS_TOKEN = INSTALL_TOKEN
    settings.SALESFORCE_CLIENT_ID = "sf-install-client"
    settings.SALESFORCE_CLIENT_SECRET = INSTALL_SECRET
    settings.SALESFORCE_REFRESH_TOKEN = "sf-install-refresh"


def connect(shop, backend, options, secrets=None):
    connection = CrmConnection(shop=shop, backend=backend, options=options)
    connection.set_secrets(secrets or {})
    connection.save()
    return connection


def run_test(client, user, connection) -> str:
    """The owner's *Test connection* action; the page it leads to."""
    client.force_login(user)
    response = client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [connection.pk]})
    assert response.status_code == 302
    return client.get(CHANGELIST).content.decode()


def report(connection) -> list[dict]:
    connection.refresh_from_db()
    return json.loads(connection.last_test_report)


def save_form(client, owner, shop, backend, options: str):
    client.force_login(owner)
    data = {"shop": shop.pk, "backend": backend, "enabled": "on", "options": options}
    return client.post(f"{CHANGELIST}add/", data)


def received(server, secret) -> bool:
    return any(secret in json.dumps(r.headers) + r.body.decode(errors="replace") for r in server.requests)


# --- 3. install-wide credentials and hosts ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "vendor", "ok"),
    [
        ("https://api.hubapi.com", "hubspot", True),
        ("https://api-eu1.hubapi.com/", "hubspot", True),
        ("https://API.HubApi.com.:443/x", "hubspot", True),
        ("http://api.hubapi.com", "hubspot", False),
        ("https://api.hubapi.com.evil.example", "hubspot", False),
        ("https://evilhubapi.com", "hubspot", False),
        ("https://api.hubapi.com@evil.example", "hubspot", False),
        ("https://evil.example\\.hubapi.com", "hubspot", False),
        ("https://evil.example#.hubapi.com", "hubspot", False),
        (" https://api.hubapi.com", "hubspot", False),
        ("javascript:alert(1)//api.hubapi.com", "hubspot", False),
        ("https://169.254.169.254/latest", "hubspot", False),
        ("https://login.salesforce.com", "salesforce", True),
        ("https://test.salesforce.com", "salesforce", True),
        ("https://acme.my.salesforce.com", "salesforce", True),
        ("https://acme--dev.sandbox.my.salesforce.com", "salesforce", True),
        ("https://acme.lightning.force.com", "salesforce", True),
        ("https://salesforce.com.evil.example", "salesforce", False),
        ("https://api.hubapi.com", "salesforce", False),
        ("file:///etc/passwd", "salesforce", False),
    ],
)
def test_only_https_vendor_hosts_are_crm_hosts(settings, url, vendor, ok):
    settings.CRM_ALLOWED_HOSTS = []
    assert (transport.url_problem(url, vendor) is None) is ok


def test_crm_allowed_hosts_lets_exactly_those_hosts_through(settings):
    settings.CRM_ALLOWED_HOSTS = ["127.0.0.1"]
    assert transport.url_problem("http://127.0.0.1:8000", "hubspot") is None
    assert transport.url_problem("http://localhost:8000", "hubspot")
    assert transport.url_problem("http://127.0.0.1.evil.example", "hubspot")


def test_the_install_hubspot_token_never_reaches_a_host_from_the_options(
    client, owner, shop, install_credentials, recorder, settings
):
    settings.CRM_ALLOWED_HOSTS = []
    attacker = recorder()
    connection = connect(shop, "hubspot", {"api_base": attacker.url})  # no token of its own
    page = run_test(client, owner, connection)
    assert attacker.requests == []
    assert "✗" in page and "not a HubSpot address" in page


def test_the_install_token_stays_home_even_for_an_allowed_host(
    client, owner, shop, install_credentials, recorder, fakes_allowed
):
    attacker = recorder()
    connection = connect(shop, "hubspot", {"api_base": attacker.url})
    page = run_test(client, owner, connection)
    assert not received(attacker, INSTALL_TOKEN)
    assert "HUBSPOT_ACCESS_TOKEN is only sent to" in page


@pytest.mark.parametrize("allowed", [[], ["127.0.0.1"]])
def test_install_salesforce_secrets_never_reach_a_login_url_from_the_options(
    client, owner, shop, install_credentials, recorder, settings, allowed
):
    settings.CRM_ALLOWED_HOSTS = allowed
    attacker = recorder()
    connection = connect(shop, "salesforce", {"login_url": attacker.url})
    page = run_test(client, owner, connection)
    assert not received(attacker, INSTALL_SECRET) and not received(attacker, "sf-install-refresh")
    assert "✗" in page


def test_a_push_refuses_a_host_nobody_allowed(shop, make_customer, recorder, settings):
    """Defence in depth: a connection saved some other way than the form is refused at call time."""
    settings.CRM_ALLOWED_HOSTS = []
    attacker = recorder()
    connection = connect(shop, "hubspot", {"api_base": attacker.url}, {"token": "shop-token"})
    customer = make_customer(shop, email="julie@example.com")
    sync_drain(connection)
    assert attacker.requests == []
    sync = CustomerSync.objects.get(customer=customer, connection=connection)
    assert sync.status == "failed" and "not a HubSpot address" in sync.last_error


def test_the_instance_url_salesforce_answers_must_be_an_allowed_host_too(
    client, owner, shop, recorder, fakes_allowed
):
    attacker = recorder()
    with FakeSalesforce() as salesforce:
        salesforce.instance_url = attacker.by_name  # same machine, a host name nobody allowed
        connection = connect(shop, "salesforce", {"login_url": salesforce.url}, SF_SECRETS)
        page = run_test(client, owner, connection)
    assert attacker.requests == []
    assert "✗ credentials" in page and "not a Salesforce address" in page
    assert connection.token_encrypted == "" or not crypto.decrypt(connection.token_encrypted)


def test_a_redirect_is_not_followed(client, owner, shop, recorder, fakes_allowed):
    attacker = recorder()
    redirector = recorder(302, b"", {"Location": attacker.by_name + "/metadata"})
    connection = connect(shop, "hubspot", {"api_base": redirector.url}, {"token": "shop-token"})
    page = run_test(client, owner, connection)
    assert attacker.requests == [] and redirector.requests
    assert "✗ contacts" in page and "redirect" in page


@pytest.mark.parametrize(
    ("backend", "options"),
    [
        ("hubspot", '{"api_base": "https://evil.example"}'),
        ("hubspot", '{"api_base": "http://api.hubapi.com"}'),
        ("hubspot", '{"api_base": "https://api.hubapi.com.evil.example"}'),
        ("hubspot", '{"api_base": "http://127.0.0.1:6379"}'),
        ("salesforce", '{"login_url": "http://169.254.169.254"}'),
        ("salesforce", '{"login_url": "https://login.salesforce.com@evil.example"}'),
    ],
)
def test_the_form_refuses_a_host_that_is_not_the_crms(client, owner, shop, settings, backend, options):
    settings.CRM_ALLOWED_HOSTS = []
    response = save_form(client, owner, shop, backend, options)
    assert response.status_code == 200 and "CRM_ALLOWED_HOSTS" in response.content.decode()
    assert not CrmConnection.objects.exists()


@pytest.mark.parametrize(
    ("backend", "options"),
    [
        ("hubspot", '{"api_base": "https://api-eu1.hubapi.com"}'),
        ("salesforce", '{"login_url": "https://acme.my.salesforce.com", "auth": "client_credentials"}'),
    ],
)
def test_the_form_accepts_the_crms_own_hosts(client, owner, shop, settings, backend, options):
    settings.CRM_ALLOWED_HOSTS = []
    assert save_form(client, owner, shop, backend, options).status_code == 302


# --- 4. what an owner reads back --------------------------------------------------------------------


def test_an_internal_services_json_is_not_read_back(client, owner, shop, recorder, fakes_allowed):
    internal = recorder(500, {"status": "ok", "db_password": "hunter2-internal"})
    connection = connect(shop, "hubspot", {"api_base": internal.url}, {"token": "shop-token"})
    page = run_test(client, owner, connection)
    assert "✗ contacts" in page and "hunter2" not in page
    assert "hunter2" not in connection.__class__.objects.get(pk=connection.pk).last_test_report


def test_an_html_error_page_becomes_a_short_plain_summary(client, owner, shop, recorder, fakes_allowed):
    html = "<html><head><title>Jenkins</title></head><body><p>" + "x" * 220 + " BUILD-SECRET-42</p>"
    internal = recorder(502, html.encode(), {"Content-Type": "text/html"})
    connection = connect(shop, "hubspot", {"api_base": internal.url}, {"token": "shop-token"})
    page = run_test(client, owner, connection)
    assert "BUILD-SECRET-42" not in page
    detail = next(c["detail"] for c in report(connection) if c["name"] == "contacts")
    assert "<" not in detail and "Jenkins" in detail and len(detail) < 260


def test_a_sync_error_on_the_customer_page_is_short_and_plain(
    client, staff, shop, make_customer, recorder, fakes_allowed
):
    html = "<html><body><h1>Bad request</h1><pre>" + "trace line\n" * 200 + "</pre></body></html>"
    crm = recorder(400, html.encode(), {"Content-Type": "text/html"})
    connection = connect(shop, "hubspot", {"api_base": crm.url}, {"token": "shop-token"})
    customer = make_customer(shop, email="julie@example.com")
    sync_drain(connection)
    error = CustomerSync.objects.get(customer=customer).last_error
    assert "Bad request" in error and "<" not in error and len(error) < 260
    client.force_login(staff)
    page = client.get(f"/dashboard/customers/{customer.pk}/").content.decode()
    assert "Bad request" in page and "<h1>Bad request" not in page


# --- 6. the connection and its queue are the owner's ------------------------------------------------


@pytest.fixture
def staff_here_owner_elsewhere(other_owner, shop):
    membership_add(shop=shop, user=other_owner, role=Membership.Role.STAFF)
    return other_owner


@pytest.fixture
def hubspot():
    with FakeHubSpot(token="shop-token") as fake:
        yield fake


@pytest.fixture
def failed_item(shop, make_customer, hubspot, fakes_allowed):
    connect(shop, "hubspot", {"api_base": hubspot.url}, {"token": "shop-token"})
    customer = make_customer(shop, first_name="Julie")
    SyncItem.objects.filter(customer=customer).update(state="failed", last_error="HTTP 400: invalid")
    CustomerSync.objects.filter(customer=customer).update(status="failed", last_error="HTTP 400: invalid")
    return SyncItem.objects.get(customer=customer)


def test_staff_of_a_shop_cannot_see_or_test_its_connection_being_owner_elsewhere(
    client, staff_here_owner_elsewhere, other_shop, failed_item, hubspot
):
    connection = failed_item.connection
    own = connect(other_shop, "native", {})
    client.force_login(staff_here_owner_elsewhere)
    listing = client.get(CHANGELIST).content.decode()
    assert (
        f"{CHANGELIST}{own.pk}/change/" in listing and f"{CHANGELIST}{connection.pk}/change/" not in listing
    )
    client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [connection.pk]})
    connection.refresh_from_db()
    assert connection.last_test_at is None and hubspot.requests == []


def test_staff_of_a_shop_cannot_see_or_retry_its_sync_queue_being_owner_elsewhere(
    client, staff_here_owner_elsewhere, failed_item
):
    client.force_login(staff_here_owner_elsewhere)
    assert "Julie" not in client.get(QUEUE).content.decode()
    client.post(QUEUE, {"action": "retry", "_selected_action": [failed_item.pk]})
    failed_item.refresh_from_db()
    assert failed_item.state == "failed"


def test_staff_keep_the_customer_sync_state_and_retry_that_customer(
    client, staff, failed_item, django_capture_on_commit_callbacks, hubspot
):
    customer = failed_item.customer
    client.force_login(staff)
    page = client.get(f"/dashboard/customers/{customer.pk}/").content.decode()
    assert 'id="crm-sync-title"' in page and "HTTP 400: invalid" in page
    assert "CRM sync" in client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/dashboard/customers/{customer.pk}/crm-retry/").status_code == 302
    # Queued again, for a worker: nothing was pushed from the request (issue item 5).
    assert SyncItem.objects.get(customer=customer, kind="customer").state == "pending"
    assert hubspot.requests == []


def test_the_admin_retry_actions_only_queue(
    client, owner, failed_item, django_capture_on_commit_callbacks, hubspot
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(QUEUE, {"action": "retry", "_selected_action": [failed_item.pk]})
    assert SyncItem.objects.get(customer=failed_item.customer).state == "pending"
    SyncItem.objects.filter(customer=failed_item.customer).update(state="failed")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/customers/customer/",
            {"action": "retry_crm_sync", "_selected_action": [failed_item.customer_id]},
        )
    assert SyncItem.objects.get(customer=failed_item.customer).state == "pending"
    assert hubspot.requests == []


# --- 8. bad options and odd answers: a clear error or a ✗ line, never a 500 -------------------------


@pytest.mark.parametrize(
    ("backend", "options", "complaint"),
    [
        ("hubspot", '{"rate_limit": "abc"}', "rate_limit"),
        ("hubspot", '{"rate_limit": 0}', "rate_limit"),
        ("hubspot", '{"rate_limit": true}', "rate_limit"),
        ("hubspot", '{"rate_limit": 2.5}', "rate_limit"),
        ("hubspot", '{"rate_window_seconds": 0}', "rate_window_seconds"),
        ("hubspot", '{"auth": "basic"}', "auth"),
        ("hubspot", '{"lead_status_by_segment": ["NEW"]}', "lead_status_by_segment"),
        ("hubspot", '{"tags_property": "tags; drop"}', "tags_property"),
        ("hubspot", '{"rate_limt": 10}', "unknown option"),
        ("hubspot", '["not", "an", "object"]', "JSON object"),
        ("salesforce", '{"api_version": "../../x"}', "api_version"),
        ("salesforce", '{"external_id_field": "Id/../x"}', "external_id_field"),
        ("salesforce", '{"auth": "password"}', "auth"),
    ],
)
def test_the_form_checks_every_option(client, owner, shop, backend, options, complaint):
    response = save_form(client, owner, shop, backend, options)
    assert response.status_code == 200 and complaint in response.content.decode()
    assert not CrmConnection.objects.exists()


@pytest.mark.parametrize("rate_limit", ["abc", 0])
def test_bad_stored_options_are_a_cross_line_not_a_500(
    client, owner, shop, hubspot, fakes_allowed, rate_limit
):
    connection = connect(shop, "hubspot", {"api_base": hubspot.url, "rate_limit": rate_limit}, {"token": "t"})
    page = run_test(client, owner, connection)
    assert "✗ configuration" in page and "rate_limit" in page


def test_a_non_json_2xx_answer_is_a_cross_line(client, owner, shop, recorder, fakes_allowed):
    portal = recorder(
        200, b"<html><body>Welcome to the intranet</body></html>", {"Content-Type": "text/html"}
    )
    connection = connect(shop, "hubspot", {"api_base": portal.url}, {"token": "shop-token"})
    page = run_test(client, owner, connection)
    assert "✗ contacts" in page and "not JSON" in page


def test_a_hubspot_oauth_answer_without_access_token_is_a_cross_line(
    client, owner, shop, recorder, fakes_allowed
):
    oauth = recorder(200, {"token_type": "bearer", "expires_in": 1800})
    connection = connect(
        shop, "hubspot", {"api_base": oauth.url, "auth": "oauth"},
        {"client_id": "id", "client_secret": "secret", "refresh_token": "refresh"},
    )  # fmt: skip
    page = run_test(client, owner, connection)
    assert "✗ credentials" in page and "no access_token" in page


@pytest.mark.parametrize(
    "answer",
    [
        (200, {"instance_url": "https://acme.my.salesforce.com"}),
        (200, b"<html>maintenance</html>"),
        (200, ["a", "list"]),
    ],
)
def test_an_odd_salesforce_token_answer_is_a_cross_line(client, owner, shop, recorder, fakes_allowed, answer):
    login = recorder(*answer)
    connection = connect(shop, "salesforce", {"login_url": login.url}, SF_SECRETS)
    page = run_test(client, owner, connection)
    assert "✗ credentials" in page


def test_test_connection_never_waits_on_a_spent_rate_limit(
    client, owner, shop, hubspot, fakes_allowed, monkeypatch
):
    connection = connect(
        shop,
        "hubspot",
        {"api_base": hubspot.url, "rate_limit": 1, "rate_window_seconds": 60},
        {"token": "shop-token"},
    )
    monkeypatch.setattr(ratelimit, "_limiters", {})
    limiter = backend_for(connection).limiter  # the one every push for this credential shares
    limiter.acquire()

    def wait(seconds):
        raise AssertionError(f"Test connection waited {seconds:.0f}s on the rate limit")

    monkeypatch.setattr(limiter, "_sleep", wait)
    page = run_test(client, owner, connection)
    assert "✗ contacts" in page and "rate limit" in page and hubspot.requests == []


# --- 9. links into the CRM ------------------------------------------------------------------------


def test_a_javascript_instance_url_is_refused_and_never_stored(client, owner, shop, fakes_allowed):
    with FakeSalesforce() as salesforce:
        salesforce.instance_url = "javascript:alert(document.cookie)//"
        connection = connect(shop, "salesforce", {"login_url": salesforce.url}, SF_SECRETS)
        page = run_test(client, owner, connection)
    assert "✗ credentials" in page
    connection.refresh_from_db()
    assert not crypto.decrypt(connection.token_encrypted)


@pytest.mark.parametrize(
    ("instance", "link"),
    [
        ("javascript:alert(1)//", None),
        ("http://127.0.0.1:1", None),
        ("https://evil.example", None),
        (
            "https://acme.my.salesforce.com",
            "https://acme.my.salesforce.com/lightning/r/Contact/003000000000001AAA/view",
        ),
    ],
)
def test_a_contact_link_is_https_on_a_crm_host_or_nothing(
    client, owner, shop, make_customer, fakes_allowed, instance, link
):
    connection = connect(shop, "salesforce", {}, SF_SECRETS)
    connection.token_encrypted = crypto.encrypt({"access_token": "x", "instance_url": instance})
    connection.save()
    customer = make_customer(shop, first_name="Julie")
    CustomerSync.objects.filter(customer=customer).update(status="synced", external_id="003000000000001AAA")
    client.force_login(owner)
    for url in (f"/admin/customers/customer/{customer.pk}/change/", f"/dashboard/customers/{customer.pk}/"):
        page = client.get(url).content.decode()
        assert "003000000000001AAA" in page
        assert 'href="javascript:' not in page and 'href="http://127.0.0.1:1' not in page
        assert 'href="https://evil.example' not in page
        if link:
            assert f'href="{link}"' in page


def test_a_salesforce_login_url_the_calls_would_refuse_is_reported_at_start_up(settings):
    from crm_backends.checks import login_url_check

    settings.CRM_ALLOWED_HOSTS = []
    assert login_url_check(None) == []  # the default, https://login.salesforce.com
    settings.SALESFORCE_LOGIN_URL = "http://intranet.example"
    assert [w.id for w in login_url_check(None)] == ["crm_backends.W002"]
