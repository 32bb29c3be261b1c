"""Sign-in throttling (issue 8, item 12): wrong passwords lock a username from one address, on both
sign-in pages, with a page that says so in the user's language, and ops can unlock. django-axes is on in
every test here (the `axes` marker; tests/conftest.py turns it off elsewhere)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db.models import F
from django.test import Client

pytestmark = pytest.mark.axes

ACCOUNTS, ADMIN = "/accounts/login/", "/admin/login/"
LIMIT = 3  # LOGIN_FAILURE_LIMIT is 5 by default (tests/test_security_deploy.py)
OFFICE, ELSEWHERE = "203.0.113.10", "198.51.100.20"


@pytest.fixture(autouse=True)
def _defaults(settings):
    # A fast hasher: every wrong password is checked, and the real one is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.USE_PROXY_HEADERS = False


def sign_in(client, page, username, password, ip=OFFICE, **headers):
    return client.post(page, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers)


def fail(client, page, username, times, ip=OFFICE, **headers):
    for _ in range(times):
        response = sign_in(client, page, username, "wrong password", ip, **headers)
        assert response.status_code in (200, 429)  # the form again, with its error, or the lockout
    return response


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("page", [ACCOUNTS, ADMIN])
def test_wrong_passwords_lock_the_account_from_that_address(client, owner, page):
    response = fail(client, page, "owner", LIMIT - 1)
    assert response.status_code == 200  # still the form below the limit
    assert fail(client, page, "owner", 1).status_code == 429
    # Even the right password is refused now: guessing on cannot succeed.
    response = sign_in(client, page, "owner", "pw-owner")
    assert response.status_code == 429 and not signed_in(client)


def test_the_lockout_page_speaks_french_and_english(client, owner):
    fail(client, ACCOUNTS, "owner", LIMIT)
    french = sign_in(client, ACCOUNTS, "owner", "pw-owner", HTTP_ACCEPT_LANGUAGE="fr")
    text = french.content.decode()
    assert french.status_code == 429 and "Connexion suspendue" in text and "15 minutes" in text
    assert "registration/locked_out.html" in [template.name for template in french.templates]
    english = sign_in(Client(), ACCOUNTS, "owner", "pw-owner", HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign-in paused" in english.content.decode() and "15 minutes" in english.content.decode()
    assert "Content-Security-Policy" in english  # the strict CSP of the sign-in pages still applies


def test_an_attacker_cannot_lock_the_owner_out_from_the_shop(client, owner):
    fail(client, ACCOUNTS, "owner", LIMIT + 3, ip=ELSEWHERE)
    assert sign_in(client, ACCOUNTS, "owner", "pw-owner", ip=ELSEWHERE).status_code == 429
    response = sign_in(Client(), ACCOUNTS, "owner", "pw-owner", ip=OFFICE)
    assert response.status_code == 302


def test_one_person_locked_out_does_not_lock_their_colleagues(client, owner, staff):
    fail(client, ACCOUNTS, "owner", LIMIT)
    colleague = Client()
    assert sign_in(colleague, ACCOUNTS, "staff", "pw-staff").status_code == 302 and signed_in(colleague)


def test_the_lock_ends_after_the_cool_off(client, owner):
    fail(client, ACCOUNTS, "owner", LIMIT)
    assert sign_in(client, ACCOUNTS, "owner", "pw-owner").status_code == 429
    # Sixteen minutes later (moved in the database rather than waited for).
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert sign_in(client, ACCOUNTS, "owner", "pw-owner").status_code == 302 and signed_in(client)


def test_a_successful_sign_in_clears_the_count(client, owner):
    fail(client, ACCOUNTS, "owner", LIMIT - 1)
    assert sign_in(client, ACCOUNTS, "owner", "pw-owner").status_code == 302
    client.post("/accounts/logout/")
    assert fail(client, ACCOUNTS, "owner", LIMIT - 1).status_code == 200


@pytest.mark.parametrize(
    "command", [["axes_reset_username", "owner"], ["axes_reset_ip", OFFICE], ["axes_reset"]]
)
def test_ops_can_unlock(client, owner, command):
    fail(client, ADMIN, "owner", LIMIT)
    assert sign_in(client, ADMIN, "owner", "pw-owner").status_code == 429
    call_command(*command, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert sign_in(client, ADMIN, "owner", "pw-owner").status_code == 302 and signed_in(client)


def test_a_forged_forwarded_for_is_ignored_without_a_proxy(client, owner):
    for index in range(LIMIT + 2):
        response = sign_in(client, ACCOUNTS, "owner", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{index}")
    assert response.status_code == 429  # one counter: REMOTE_ADDR's, whatever the header said


def test_behind_a_proxy_the_client_address_comes_from_its_header(client, owner, settings):
    settings.USE_PROXY_HEADERS, settings.PROXY_COUNT = True, 1
    proxy = "10.0.0.2"  # every request reaches the app from the proxy's address
    # The attacker's own entries (left) are not read: the proxy's appended one (right) is.
    fail(client, ACCOUNTS, "owner", LIMIT, ip=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {ELSEWHERE}")
    locked = sign_in(
        client, ACCOUNTS, "owner", "pw-owner", proxy, HTTP_X_FORWARDED_FOR=f"9.9.9.9, {ELSEWHERE}"
    )
    assert locked.status_code == 429
    office = sign_in(Client(), ACCOUNTS, "owner", "pw-owner", proxy, HTTP_X_FORWARDED_FOR=OFFICE)
    assert office.status_code == 302
