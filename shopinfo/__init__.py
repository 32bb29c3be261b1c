"""What a shop tells its customers: opening hours (weekly and dated exceptions), facts (delivery,
payment, services, returns, parking), the signature of automatic replies.

Stored and edited here; read by the reply engine (webhooks) and the analytics. The pure modules
(`hours`, `hours_parse`) import nothing from Django so that the offline engine and its evaluation
scripts can use them without a database.
"""
