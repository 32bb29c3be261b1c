"""/api/v1/customers/{id}/notes/: a customer's notes, newest first (cursor pages), and adding one
with the customer page's form and the `note_add` service; the author is whoever the call acts as (the
signed-in user, or the person who created the key)."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.response import Response

from coccinelle.api.forms import form_errors
from coccinelle.api.schema import error_responses
from coccinelle.api.views import ShopViewSet
from customers.api.customers import customer_of_shop
from customers.api.serializers import NoteSerializer
from customers.forms import NoteForm
from customers.models import Note
from customers.services import note_add

NOTE_EXAMPLE = {
    "id": 7,
    "customer": 42,
    "body": "Prefers a call after 18h.",
    "author": "lila",
    "created_at": "2026-11-30T15:02:00Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="A customer's notes",
        responses={200: NoteSerializer(many=True), **error_responses(400, 403, 404)},
    ),
    create=extend_schema(
        summary="Add a note to a customer",
        request=NoteSerializer,
        responses={201: NoteSerializer, **error_responses(400, 403, 404)},
        examples=[
            OpenApiExample("A note", value={"body": "Prefers a call after 18h."}, request_only=True),
            OpenApiExample("Added", value=NOTE_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    ),
)
@extend_schema(tags=["customers"])
class CustomerNoteViewSet(mixins.ListModelMixin, ShopViewSet):
    serializer_class = NoteSerializer

    def get_customer(self):
        return customer_of_shop(self.shop, self.kwargs["customer_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no shop
            return Note.objects.none()
        return self.get_customer().notes.select_related("author")

    def create(self, request, *args, **kwargs):
        customer = self.get_customer()
        incoming = NoteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        form = NoteForm(data={"body": incoming.validated_data["body"]})
        if not form.is_valid():
            raise exceptions.ValidationError(form_errors(form))
        note = note_add(customer=customer, body=form.cleaned_data["body"], author=self.actor)
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)
