"""Numbered pages, the first ones only.

An OFFSET makes the database walk past every earlier row, so the deep pages of a 100,000-customer shop
cost their depth (bench/pages.py, 2026-12-02: the dashboard's page 2,000 112 ms, the admin's page 1,000
124 ms, against ~60 ms for a first page). Lists that have nothing better number their first
MAX_PAGES pages only: the admin's customer list, the dashboard's ranked searches (the dashboard's
sorted list goes on by position instead: customers/keyset.py). The count stays the real one.
"""

from django.core.paginator import EmptyPage, Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    MAX_PAGES = 40

    def __init__(self, *args, max_pages: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_pages = max_pages or self.MAX_PAGES

    @cached_property
    def num_pages(self):
        return min(super().num_pages, self.max_pages)

    def validate_number(self, number):
        # A page past the last numbered one (a link kept from before, a typed URL) shows the last one,
        # and 0 or a negative the first, rather than an error page (the admin's is "something's wrong
        # with your database").
        try:
            return super().validate_number(number)
        except EmptyPage:
            return self.num_pages if int(number) > 1 else 1
