"""HubSpot OAuth on the 2026-03 endpoints: refresh an access token ahead of expiry, and revoke the
refresh token when the connection is deleted.

`POST /oauth/v1/token` retires on 2027-02-16; `POST /oauth/2026-03/token` takes the same form fields
(`grant_type=refresh_token`, `client_id`, `client_secret`, `refresh_token`) and answers
`{access_token, refresh_token, expires_in, token_type, token_use, hub_id, scopes}`
(HubSpot-public-api-spec-collection, PublicApiSpecs/Auth/Oauth/Rollouts/279897/2026-03/oauth.json).
`POST /oauth/2026-03/token/revoke` takes `client_id`, `client_secret`, `token`, `token_type_hint`.
"""

import logging
from datetime import timedelta

from django.utils import timezone

from crm_backends import crypto, transport
from crm_backends.base import CrmError

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/2026-03/token"  # noqa: S105 - a path, not a secret
REVOKE_PATH = "/oauth/2026-03/token/revoke"
CLIENT_SECRETS = ("client_id", "client_secret", "refresh_token")
# A deleted connection must not wait on HubSpot: a short bound, and the delete goes on regardless.
REVOKE_TIMEOUT = 3.0


def access_token(connection, api: str) -> str:
    """The cached access token while it has more than 5 minutes left (tokens live 30), else a fresh one:
    refresh ahead of expiry, not after a 401."""
    cached = crypto.decrypt(connection.token_encrypted).get("access_token")
    expires = connection.token_expires_at
    if cached and expires and expires - timezone.now() > timedelta(minutes=5):
        return cached
    return refresh(connection, api)


def refresh(connection, api: str) -> str:
    secrets = connection.secrets
    missing = [k for k in CLIENT_SECRETS if not secrets.get(k)]
    if missing:
        raise CrmError(f"HubSpot OAuth: missing {', '.join(missing)}", permanent=True)
    response = transport.request(
        "hubspot",
        "POST",
        api + TOKEN_PATH,
        data={"grant_type": "refresh_token", **{k: secrets[k] for k in CLIENT_SECRETS}},
    )
    body = transport.json_body(response)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise CrmError("HubSpot OAuth: the token answer has no access_token", permanent=True)
    connection.token_encrypted = crypto.encrypt({"access_token": token})
    connection.token_expires_at = timezone.now() + timedelta(seconds=_expires_in(body))
    rotated = body.get("refresh_token")
    if isinstance(rotated, str) and rotated and rotated != secrets["refresh_token"]:
        connection.set_secrets({**secrets, "refresh_token": rotated})
    connection.save(update_fields=["token_encrypted", "token_expires_at", "secrets_encrypted"])
    return token


def revoke(connection, api: str) -> bool:
    """Revoke the connection's refresh token at HubSpot; True when HubSpot confirmed it. Best effort:
    never raises (the connection is going away whatever HubSpot says), never logs a secret."""
    try:
        secrets = connection.secrets
    except crypto.SecretsUnreadable:
        return False
    if not all(secrets.get(k) for k in CLIENT_SECRETS):
        return False  # a private-app token: the owner uninstalls the app in HubSpot
    form = {
        "client_id": secrets["client_id"],
        "client_secret": secrets["client_secret"],
        "token": secrets["refresh_token"],
        "token_type_hint": "refresh_token",
    }
    try:
        transport.request("hubspot", "POST", api + REVOKE_PATH, data=form, timeout=REVOKE_TIMEOUT)
    except CrmError as exc:
        logger.warning("HubSpot: revoking the refresh token of connection %s failed: %s", connection.pk, exc)
        return False
    return True


def _expires_in(body) -> int:
    try:
        return max(60, min(int(body.get("expires_in", 1800)), 86_400))
    except (TypeError, ValueError):
        return 1800
