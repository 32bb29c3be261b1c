"""When a CRM connection is deleted, revoke its OAuth refresh token at the vendor (HubSpot's
`/oauth/2026-03/token/revoke`), so that a token nobody will use again stops working.

Why here and how: deletion happens in the admin (the connection itself, or its shop, by cascade), and
`pre_delete` catches both. The call waits for the commit (a rolled-back delete keeps a working
token), has a short timeout (hubspot_oauth.REVOKE_TIMEOUT), and any failure is logged and ignored:
the delete never waits long on, or fails because of, the vendor. It runs inline rather than as a
Celery task because the task would need the refresh token, and secrets never travel through the
broker in clear.
"""

import logging

from django.db import transaction

from crm_backends import crypto
from crm_backends.base import CrmError

logger = logging.getLogger(__name__)


def connection_deleted(sender, instance, **kwargs) -> None:
    from crm_backends.registry import backend_for

    if not instance.secrets_encrypted:
        return
    try:
        backend = backend_for(instance)
    except (CrmError, crypto.SecretsUnreadable, KeyError, ValueError):
        return  # misconfigured: nothing we could revoke with
    connection_id = instance.pk  # Django clears it once the row is deleted
    transaction.on_commit(lambda: _revoke(backend, connection_id), robust=True)


def _revoke(backend, connection_id) -> None:
    try:
        backend.revoke()
    except Exception:  # noqa: BLE001 - best effort: the connection is gone whatever the vendor says
        logger.warning("Revoking the credentials of deleted CRM connection %s failed", connection_id)
