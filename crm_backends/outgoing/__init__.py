"""Outgoing webhooks: events of a shop (customers, messages, orders) posted, signed, to URLs its owners
register. One more external connector of crm_backends, on the same machinery as the CRM sync: rows
written in the change's transaction (outbox.py), a Celery task that delivers them after the commit
(delivery.py, tasks.py), retries with backoff, every attempt recorded, beat's sweep for what was left
behind. See the README's *Outgoing webhooks* section.
"""
