"""What every app's REST API shares: authentication (API keys, or the pages' session), the shop and
scope a request acts with, errors as JSON, cursor pagination and throttling. Each app keeps its own
resources (customers/api/, webhooks/api/, …); coccinelle/urls.py mounts them under /api/v1/."""
