"""The baseline of bench/webhook.py: Django with no app and no middleware, and one view that reads a
Twilio form and stores it in ONE insert (idempotent on the MessageSid), then answers an empty TwiML.

It is what "persist first" costs at the least on the same stack; the table is created by the bench.
"""

TABLE = "bench_bare_inbound"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    message_sid varchar(64) NOT NULL UNIQUE,
    sender varchar(64) NOT NULL,
    recipient varchar(64) NOT NULL,
    form jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
)
"""
