"""The delivery side: claim an endpoint's due deliveries, POST each, signed, record every attempt,
retry with backoff, and disable an endpoint that keeps failing.

One HTTP call per delivery (a receiver answers one event at a time), through transport.py with a
short timeout and no redirects; the URL is checked again before each call (DNS can change after the URL
was saved), and the address the connection reached is checked too (transport.py says why).
Deliveries go out in the order their events were written, oldest first; a retried one is sent after
the newer ones that succeeded meanwhile, so receivers order by `created` and use ids (see the README).
"""

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from coccinelle import http
from crm_backends import crypto
from crm_backends.outgoing import signing, transport
from crm_backends.outgoing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from crm_backends.outgoing.urlguard import url_problem

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
# A claim's lease, renewed before each send: it covers one attempt, not the whole batch (50 sends of up to
# 10 s each would outlast it, and another worker would then send the same deliveries again).
LEASE = timedelta(minutes=5)
BATCH = 50
# Wait before attempt n + 1 (about ±10 %): 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h, 36 h: nine attempts
# over 3.4 days, so that one event failing to the end also crosses the "failing for 3 days" line.
BACKOFF_SECONDS = (60, 300, 1800, 7200, 21600, 43200, 86400, 129600)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
DISABLE_AFTER_FAILURES = 50
DISABLE_AFTER = timedelta(days=3)
SAVED_AFTER_ATTEMPT = [
    "attempts", "last_status_code", "last_error", "state", "delivered_at", "next_attempt_at",
]  # fmt: skip
RESPONSE_KEPT = 1000  # characters of the receiver's answer kept with each attempt


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retrying + self.failed


def backoff(attempts: int) -> timedelta:
    base = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
    return timedelta(seconds=base * random.uniform(0.9, 1.1))  # noqa: S311 - jitter, not security


def deliver_due(endpoint_id: int, *, limit: int = BATCH) -> DeliveryReport:
    """Send one batch of the endpoint's due deliveries (none while it is disabled)."""
    report = DeliveryReport()
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None or not endpoint.enabled:
        return report
    claimed = _claim(endpoint, limit)
    for n, delivery in enumerate(claimed):
        if not endpoint.enabled:  # disabled by this batch's failures: the rest wait for re-enabling
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed[n:]]).update(claimed_until=None)
            break
        attempt_send(endpoint, delivery, report)
    return report


def due(endpoint_id: int):
    now = timezone.now()
    rows = WebhookDelivery.objects.filter(
        endpoint_id=endpoint_id, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
    )
    return rows.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))


def _claim(endpoint, limit) -> list[WebhookDelivery]:
    with transaction.atomic():
        rows = list(
            due(endpoint.pk)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("event")
            .order_by("event_id", "pk")[:limit]
        )
        if rows:
            until = timezone.now() + LEASE
            WebhookDelivery.objects.filter(pk__in=[r.pk for r in rows]).update(claimed_until=until)
            for row in rows:
                row.claimed_until = until  # the lease's token: see _lease_renewed
    return rows


def _lease_renewed(delivery: WebhookDelivery) -> bool:
    """Extend this worker's lease on the delivery just before sending it; False when the lease is no
    longer ours (it ran out and another worker claimed the row, or a replay reset it) or the endpoint
    was disabled meanwhile: then this worker must not send it. The claimed_until this worker wrote is
    its token (a compare-and-set, so two workers never both hold one row)."""
    until = timezone.now() + LEASE
    held = WebhookDelivery.objects.filter(
        pk=delivery.pk,
        state=WebhookDelivery.State.PENDING,
        claimed_until=delivery.claimed_until,
        endpoint__enabled=True,
    ).update(claimed_until=until)
    if held:
        delivery.claimed_until = until
    return bool(held)


def attempt_send(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, report: DeliveryReport
) -> WebhookAttempt | None:
    """One attempt: POST, record it, then mark the delivery delivered, to retry, or failed. None,
    without sending, when the delivery's lease is no longer this worker's; None too when the delivery
    was deleted while it was being sent."""
    if not _lease_renewed(delivery):
        logger.info("webhook delivery %s not sent: claimed elsewhere or endpoint disabled", delivery.pk)
        return None
    lease = delivery.claimed_until
    attempt = _post(endpoint, delivery)
    try:
        with transaction.atomic():
            attempt.save()
    except IntegrityError:  # the delivery was deleted during the call (an erasure, the endpoint deleted)
        logger.info("webhook delivery %s deleted during its attempt", delivery.pk)
        return None
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = attempt.status_code, attempt.error
    if attempt.ok:
        delivery.state, delivery.delivered_at = WebhookDelivery.State.DELIVERED, attempt.started_at
        report.delivered += 1
        _endpoint_succeeded(endpoint)
    else:
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = WebhookDelivery.State.FAILED
            report.failed += 1
        else:
            delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
            report.retrying += 1
        _endpoint_failed(endpoint, attempt, first_failure=delivery.attempts == 1)
    _finish(delivery, lease)
    return attempt


def _finish(delivery: WebhookDelivery, lease) -> None:
    """Save the outcome and release the lease, only if the lease is still ours: a replay that reset the
    row meanwhile (or a send that outlasted the lease) keeps the state it was given."""
    fields = {name: getattr(delivery, name) for name in SAVED_AFTER_ATTEMPT}
    if not WebhookDelivery.objects.filter(pk=delivery.pk, claimed_until=lease).update(
        claimed_until=None, **fields
    ):
        logger.info("webhook delivery %s: lease lost during the attempt (see its log)", delivery.pk)
    delivery.claimed_until = None


def _post(endpoint, delivery) -> WebhookAttempt:
    event = delivery.event
    body = json.dumps(event.payload, ensure_ascii=False, separators=(",", ":")).encode()
    attempt = WebhookAttempt(delivery=delivery, started_at=timezone.now())
    started = time.monotonic()
    try:
        secret = endpoint.secret
    except crypto.SecretsUnreadable:
        attempt.error = "the endpoint's secret cannot be decrypted with CRM_ENCRYPTION_KEYS"
        return attempt
    headers = signing.headers(secret=secret, body=body, event_type=event.type, delivery_uid=delivery.uid)
    attempt.request_headers = {"User-Agent": http.USER_AGENT, **headers}
    problem = url_problem(endpoint.url)
    if problem:
        attempt.error = problem[:300]
        return attempt
    try:
        answer = transport.post(endpoint.url, body=body, headers=headers, timeout=TIMEOUT_SECONDS)
        attempt.status_code, attempt.response_body = answer.status_code, answer.text[:RESPONSE_KEPT]
        if answer.is_redirect or 300 <= answer.status_code < 400:
            attempt.error = "a redirect, not followed"
    except transport.SendError as exc:
        attempt.error = str(exc)[:300]  # names the host only, never the headers
    finally:
        attempt.duration_ms = int((time.monotonic() - started) * 1000)
    return attempt


# --- the endpoint's health ------------------------------------------------------------------------------


def _endpoint_succeeded(endpoint) -> None:
    if endpoint.consecutive_failures or endpoint.failing_since:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0, failing_since=None)
        endpoint.consecutive_failures, endpoint.failing_since = 0, None


def _endpoint_failed(endpoint, attempt: WebhookAttempt, *, first_failure: bool) -> None:
    """Counted per delivery, not per attempt (the issue's "50 deliveries in a row"): the retries of one
    event to a receiver that is down for an hour must not disable it; 50 different events failing
    without a success between them, or three days of failures, do."""
    now = timezone.now()
    if first_failure:
        failures = F("consecutive_failures") + 1
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=failures)
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    endpoint.refresh_from_db(fields=["consecutive_failures", "failing_since", "enabled"])
    if not endpoint.enabled:
        return
    too_many = endpoint.consecutive_failures >= DISABLE_AFTER_FAILURES
    too_long = endpoint.failing_since is not None and now - endpoint.failing_since >= DISABLE_AFTER
    if too_many or too_long:
        endpoint_disable_failing(endpoint, last=attempt, too_many=too_many)


def endpoint_disable_failing(endpoint, *, last: WebhookAttempt, too_many: bool) -> None:
    """Stop sending to an endpoint that keeps failing; tell the shop's owners (e-mail after the commit;
    the shop settings page shows a banner until someone enables it again)."""
    from crm_backends.outgoing.notify import owners_notify_disabled

    with translation.override(endpoint.shop.language or "en"):
        last_said = f"HTTP {last.status_code}" if last.status_code else last.error
        if too_many:
            reason = gettext("%(count)s deliveries failed in a row (last: %(last)s).") % {
                "count": endpoint.consecutive_failures,
                "last": last_said,
            }
        else:
            reason = gettext("Deliveries have failed for 3 days (last: %(last)s).") % {"last": last_said}
    with transaction.atomic():
        # Two tasks of one endpoint can fail at the same moment: only the one that finds it still
        # enabled, under the row's lock, disables it and has the owners e-mailed.
        locked = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk, enabled=True).first()
        endpoint.enabled = False
        if locked is None:
            return
        locked.enabled, locked.disabled_at, locked.disabled_reason = False, timezone.now(), reason[:300]
        locked.save(update_fields=["enabled", "disabled_at", "disabled_reason", "updated_at"])
    endpoint.disabled_at, endpoint.disabled_reason = locked.disabled_at, locked.disabled_reason
    logger.warning("webhook endpoint %s of shop %s disabled: %s", endpoint.pk, endpoint.shop_id, reason)
    transaction.on_commit(partial(owners_notify_disabled, endpoint.pk))
