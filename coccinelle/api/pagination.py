"""Cursor pagination: stable under inserts (an integration paging through customers while messages
arrive sees each one once), and cheap at any depth (no OFFSET)."""

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    # Newest first by default; the id breaks ties so that the cursor never skips nor repeats a row.
    ordering = ("-id",)
