"""Salesforce sign-in: the OAuth token endpoint (refresh token, client credentials, JWT bearer), the
session it answers (access token + `instance_url`), and revoking a connection's token when it goes.

A mixin of SalesforceBackend (crm_backends/salesforce.py), which sets `login_url` and `connection`.
"""

import logging
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings

from crm_backends import crypto, transport
from crm_backends.base import CrmError

logger = logging.getLogger(__name__)

# Deleting a connection waits on this at most: revoking is a courtesy to the shop, never a blocker.
REVOKE_TIMEOUT = 5.0
_NEEDED = {
    "refresh_token": ("client_id", "client_secret", "refresh_token"),
    "client_credentials": ("client_id", "client_secret"),
    "jwt": ("client_id", "username", "private_key"),
}


class SalesforceAuth:
    login_url: str

    def _secrets(self) -> dict:
        stored = self.connection.secrets
        if not self._may_use_install_credentials():
            return stored
        defaults = {
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "client_secret": settings.SALESFORCE_CLIENT_SECRET,
            "refresh_token": settings.SALESFORCE_REFRESH_TOKEN,
        }
        return {**{k: v for k, v in defaults.items() if v}, **stored}

    def _may_use_install_credentials(self) -> bool:
        """SALESFORCE_* belong to the whole install: they go to Salesforce itself, or to the login
        URL ops configured, never to a host a connection's options chose."""
        install_url = settings.SALESFORCE_LOGIN_URL.rstrip("/")
        return transport.is_vendor_url(self.login_url, "salesforce") or self.login_url == install_url

    def _session(self) -> dict:
        cached = crypto.decrypt(self.connection.token_encrypted)
        return cached if cached.get("access_token") else self._authenticate()

    def _authenticate(self) -> dict:
        """Get an access token; Salesforce says which instance to call (`instance_url`), and that
        instance must be a Salesforce host too: the access token is sent there."""
        url = self.login_url + "/services/oauth2/token"
        body = transport.json_body(transport.request("salesforce", "POST", url, data=self._grant()))
        token, instance = body.get("access_token"), body.get("instance_url")
        if not (isinstance(token, str) and token and isinstance(instance, str) and instance):
            raise CrmError("Salesforce: the token answer has no access_token or instance_url", permanent=True)
        transport.check_url(instance, "salesforce")
        session = {"access_token": token, "instance_url": instance.rstrip("/")}
        self.connection.token_encrypted = crypto.encrypt(session)
        self.connection.save(update_fields=["token_encrypted"])
        return session

    def _grant(self) -> dict:
        secrets, flow = self._secrets(), self.option("auth", "refresh_token")
        needed = _NEEDED.get(flow)
        if needed is None:
            raise CrmError(f"Salesforce: unknown auth flow {flow!r}", permanent=True)
        missing = [k for k in needed if not secrets.get(k)]
        if missing:
            why = "" if self._may_use_install_credentials() else " (SALESFORCE_* serve Salesforce hosts only)"
            raise CrmError(f"Salesforce {flow}: missing {', '.join(missing)}{why}", permanent=True)
        if flow == "jwt":
            return {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": self._assertion(secrets),
            }
        grant = {
            "grant_type": flow,
            "client_id": secrets["client_id"],
            "client_secret": secrets["client_secret"],
        }
        if flow == "refresh_token":
            grant["refresh_token"] = secrets["refresh_token"]
        return grant

    def _assertion(self, secrets) -> str:
        claims = {
            "iss": secrets["client_id"],
            "sub": secrets["username"],
            "aud": self.login_url,
            "exp": datetime.now(UTC) + timedelta(minutes=3),
        }
        return jwt.encode(claims, secrets["private_key"], algorithm="RS256")

    # --- revoke ------------------------------------------------------------------------------------

    def revoke(self) -> None:
        """Best effort, when the connection is deleted: `POST /services/oauth2/revoke` with the
        connection's own refresh token (which also revokes the access tokens issued with it), or, for
        the flows without one, the cached access token. Never the install-wide
        SALESFORCE_REFRESH_TOKEN: other shops may sign in with it. Never raises."""
        try:
            token = self._token_to_revoke()
        except (CrmError, crypto.SecretsUnreadable) as exc:
            logger.warning("Salesforce token of connection %s not revoked: %s", self.connection.pk, exc)
            return
        if not token:
            return
        url = self.login_url + "/services/oauth2/revoke"
        try:
            transport.request("salesforce", "POST", url, data={"token": token}, timeout=REVOKE_TIMEOUT)
        except CrmError as exc:  # the message names the host and Salesforce's error, never the token
            logger.warning("Salesforce token of connection %s not revoked: %s", self.connection.pk, exc)
            return
        logger.info("Salesforce token of connection %s revoked", self.connection.pk)

    def _token_to_revoke(self) -> str:
        refresh = self.connection.secrets.get("refresh_token") or ""
        shared = settings.SALESFORCE_REFRESH_TOKEN
        if self.option("auth", "refresh_token") == "refresh_token" and refresh and refresh != shared:
            return refresh
        return crypto.decrypt(self.connection.token_encrypted).get("access_token") or ""
