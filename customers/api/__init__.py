"""The customers app's REST resources (mounted under /api/v1/ by coccinelle/urls.py): thin viewsets
over customers/services.py and selectors.py, the same ones the pages and the admin call."""
