"""Cursor pagination: stable under inserts (an integration paging through customers while messages
arrive sees each one once), and cheap at any depth (no OFFSET)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    # Newest first by default; the id breaks ties so that the cursor never skips nor repeats a row.
    ordering = ("-id",)

    def _invalid(self) -> ValidationError:
        # A 400 naming the parameter, not DRF's 404: the URL is right, the value sent is not.
        return ValidationError({self.cursor_query_param: [str(self.invalid_cursor_message)]})

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise self._invalid() from None

    def paginate_queryset(self, queryset, request, view=None):
        if request.query_params.get(self.cursor_query_param) is None:
            return super().paginate_queryset(queryset, request, view)
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, DjangoValidationError):
            # A hand-made cursor whose position is no value of the ordering field ("p=abc" for an id).
            raise self._invalid() from None
