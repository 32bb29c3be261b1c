"""/api/v1/tags/: the shop's tags with how many customers carry each; create and delete (write scope)
with the services the pages and the admin use."""

from django.db.models import Count
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from coccinelle.api.errors import Conflict
from coccinelle.api.schema import error_responses
from coccinelle.api.views import ShopViewSet
from customers.api.serializers import TagSerializer
from customers.models import Tag
from customers.services import tag_delete, tags_get_or_create

TAG_EXAMPLE = {
    "id": 3,
    "url": "https://crm.example.com/api/v1/tags/3/",
    "name": "mariage",
    "customers_count": 12,
}


@extend_schema_view(
    list=extend_schema(
        summary="The shop's tags", responses={200: TagSerializer(many=True), **error_responses(400, 403)}
    ),
    retrieve=extend_schema(summary="A tag", responses={200: TagSerializer, **error_responses(403, 404)}),
    create=extend_schema(
        summary="Create a tag",
        description="A name the shop already has answers 409 with that tag's URL in `existing`.",
        request=TagSerializer,
        responses={201: TagSerializer, **error_responses(400, 403, 409)},
        examples=[
            OpenApiExample("A tag", value={"name": "mariage"}, request_only=True),
            OpenApiExample("Created", value=TAG_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    ),
    destroy=extend_schema(
        summary="Delete a tag",
        description="Removes it from every customer who has it.",
        responses={204: None, **error_responses(403, 404)},
    ),
)
@extend_schema(tags=["tags"])
class TagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ShopViewSet):
    serializer_class = TagSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no shop
            return Tag.objects.none()
        return Tag.objects.filter(shop=self.shop).annotate(customers_count=Count("customers"))

    def create(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        name = incoming.validated_data["name"]
        existing = self.get_queryset().filter(name=name).first()
        if existing is not None:
            raise Conflict(
                _("This shop already has this tag."),
                existing_url=self.get_serializer(existing).data["url"],
                fields={"name": [_("This shop already has this tag.")]},
            )
        (tag,) = tags_get_or_create(shop=self.shop, names=[name])
        body = self.get_serializer(self.get_queryset().get(pk=tag.pk)).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": str(body["url"])})

    def perform_destroy(self, instance):
        tag_delete(tag=instance)
