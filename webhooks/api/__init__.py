"""The messaging side's REST resources (mounted under /api/v1/ by coccinelle/urls.py): a customer's
messages, listed and sent through the same rules as the customer page's send box."""
