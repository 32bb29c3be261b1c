"""/api/v1/customers/: list (filters as on the pages, cursor pages), retrieve, create, PATCH, erase,
the GDPR export and merges.

Writes go through the edit page's form (customers.forms.CustomerEditForm: the phone read with the shop's
country, one phone / e-mail / WhatsApp id per customer) and the same services as the pages and the
admin (customer_update, customer_erase, customer_merge). Every lookup is within the calling shop, so
another shop's id, in the URL or in a merge's body, is a 404 like an id that does not exist.
"""

import copy

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from coccinelle.api.errors import Conflict
from coccinelle.api.forms import form_errors
from coccinelle.api.schema import error_responses
from coccinelle.api.views import ShopViewSet
from customers.api.serializers import (
    CustomerFilterSerializer,
    CustomerSerializer,
    CustomerWriteSerializer,
    MergeCandidateSerializer,
    MergePreviewSerializer,
    MergeRequestSerializer,
)
from customers.forms import CustomerEditForm
from customers.models import Customer, Tag
from customers.privacy import customer_erase, customer_export_data
from customers.selectors import customer_filter
from customers.services import (
    CUSTOMER_EDITABLE_FIELDS,
    MERGE_FILLABLE_FIELDS,
    customer_create_or_find,
    customer_merge,
    customer_update,
    merge_conflicts,
    merge_identifiers_not_kept,
)

# The order in which a 409 points at the customer already holding a value (the most trusted first).
IDENTITY_FIELDS = ("phone", "email", "whatsapp_user_id")

CUSTOMER_EXAMPLE = {
    "id": 42,
    "url": "https://crm.example.com/api/v1/customers/42/",
    "name": "Julie Martin",
    "first_name": "Julie",
    "last_name": "Martin",
    "phone": "+33698765432",
    "email": "julie@example.com",
    "whatsapp_user_id": None,
    "language": "fr",
    "segment": "vip",
    "tags": ["fidélité", "mariage"],
    "preferred_channel": "whatsapp",
    "needs_attention": False,
    "opted_out": False,
    "orders_count": 7,
    "total_spent": "1916.10",
    "address_line1": "3 rue des Lilas",
    "address_line2": "",
    "postal_code": "75011",
    "city": "Paris",
    "country": "FR",
    "source": "whatsapp",
    "first_contact_at": "2026-03-14T10:02:11Z",
    "last_contact_at": "2026-11-30T15:02:00Z",
    "created_at": "2026-03-14T10:02:11Z",
    "updated_at": "2026-11-30T15:02:00Z",
}
CREATE_EXAMPLE = {
    "first_name": "Julie",
    "last_name": "Martin",
    "phone": "06 98 76 54 32",
    "tags": ["mariage"],
}


def api_customer_url(request, customer_id: int) -> str:
    return request.build_absolute_uri(reverse("api-customer-detail", args=[customer_id]))


def _form_data(customer: Customer, sent: dict, *, partial: bool) -> dict:
    """What the edit page's form would receive: the record's current values (a PATCH changes only what
    it sends), the values sent, None as an empty field. Tags are handled apart (a list, not the
    form's comma-separated text, so that a tag name may hold a comma)."""
    data = {}
    if partial:
        data = {name: getattr(customer, name) or "" for name in CUSTOMER_EDITABLE_FIELDS}
    data["segment"] = customer.segment
    data.update({name: "" if value is None else value for name, value in sent.items() if name != "tags"})
    data["tags"] = ""
    return data


def _validated_form(customer: Customer, request, *, partial: bool) -> tuple[CustomerEditForm, dict]:
    """The sent values type-checked, then validated by the edit page's form; 400 or 409 otherwise."""
    incoming = CustomerWriteSerializer(data=request.data, partial=partial)
    incoming.is_valid(raise_exception=True)
    sent = dict(incoming.validated_data)
    form = CustomerEditForm(data=_form_data(customer, sent, partial=partial), instance=copy.copy(customer))
    if not form.is_valid():
        errors = form_errors(form)
        if partial:
            # A value stored before today's rules (a language the form does not offer, a number read
            # otherwise) must not block a PATCH of another field: only what is sent changes.
            errors = {name: e for name, e in errors.items() if name in sent or name == "non_field_errors"}
            if not errors:
                return form, sent
        held = next((form.duplicates[f] for f in IDENTITY_FIELDS if f in form.duplicates), None)
        if held is not None:
            raise Conflict(
                _("Another customer of this shop already has it."),
                existing_url=api_customer_url(request, held.pk),
                fields=errors,
            )
        raise exceptions.ValidationError(errors)
    return form, sent


def _tag_names(sent: dict) -> list[str] | None:
    if "tags" not in sent:
        return None
    return list(dict.fromkeys(name.strip() for name in sent["tags"] if name.strip()))


def _conflict_after_race(request, shop, changes: dict) -> Conflict:
    """Another request took the phone or e-mail between the form's check and the write."""
    for field in IDENTITY_FIELDS:
        value = changes.get(field)
        lookup = {"email__iexact": value} if field == "email" else {field: value}
        held = Customer.objects.filter(shop=shop, **lookup).first() if value else None
        if held is not None:
            return Conflict(
                _("Another customer of this shop has just taken this phone or e-mail."),
                existing_url=api_customer_url(request, held.pk),
                fields={field: [_("Another customer of this shop already has it.")]},
            )
    return Conflict(_("Another customer of this shop has just taken this phone or e-mail."))


def _filters(request) -> dict:
    params = CustomerFilterSerializer(data=request.query_params.dict())
    params.is_valid(raise_exception=True)
    return params.validated_data


@extend_schema_view(
    list=extend_schema(
        summary="List customers",
        description="Newest first, in cursor pages (`next` / `previous` are the URLs of the neighbouring "
        "pages; `page_size` up to 200). The filters are the customer list page's: `search` finds a "
        "phone in any format, a name whatever its accents, or an e-mail.",
        parameters=[CustomerFilterSerializer],
        responses={200: CustomerSerializer(many=True), **error_responses(400, 403)},
    ),
    retrieve=extend_schema(
        summary="A customer",
        responses={200: CustomerSerializer, **error_responses(403, 404)},
        examples=[OpenApiExample("A customer", value=CUSTOMER_EXAMPLE, response_only=True)],
    ),
    destroy=extend_schema(
        summary="Erase a customer (GDPR, owner scope)",
        description="Deletes the person, their messages, notes and history; their orders stay, anonymous, "
        "so that the accounts still add up. An audit entry records that an erasure happened.",
        responses={204: None, **error_responses(403, 404)},
    ),
)
@extend_schema(tags=["customers"])
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopViewSet):
    serializer_class = CustomerSerializer
    owner_actions = ("destroy", "export", "merge")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no shop
            return Customer.objects.none()
        return Customer.objects.filter(shop=self.shop).prefetch_related("tags")

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        params = _filters(self.request)
        tag = None
        if params.get("tag"):
            tag = Tag.objects.filter(shop=self.shop, name=params["tag"]).first()
            if tag is None:
                return queryset.none()
        rows = customer_filter(
            self.shop,
            {
                "q": params.get("search"),
                "segment": params.get("segment"),
                "channel": params.get("channel"),
                "tag": tag,
                "attention": params.get("needs_attention") is True,
            },
        ).prefetch_related("tags")
        if params.get("needs_attention") is False:
            rows = rows.filter(needs_attention=False)
        if params.get("updated_since"):
            rows = rows.filter(updated_at__gte=params["updated_since"])
        return rows

    @extend_schema(
        summary="Create a customer",
        description="Validated like the customer edit page: the phone is read with the shop's country; "
        "a phone, e-mail or WhatsApp id another customer has answers 409 with that customer's URL "
        "in `existing`.",
        request=CustomerWriteSerializer,
        responses={201: CustomerSerializer, **error_responses(400, 403, 409)},
        examples=[
            OpenApiExample("New customer", value=CREATE_EXAMPLE, request_only=True),
            OpenApiExample("Created", value=CUSTOMER_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    )
    def create(self, request, *args, **kwargs):
        form, sent = _validated_form(Customer(shop=self.shop), request, partial=False)
        changes = form.changes()
        ids = {field: changes.pop(field) for field in IDENTITY_FIELDS}
        defaults = {name: value for name, value in changes.items() if value}
        if defaults.get("first_name") or defaults.get("last_name"):
            defaults["name_source"] = Customer.NameSource.HUMAN  # typed by the shop, not read from a message
        with transaction.atomic():
            customer, created = customer_create_or_find(
                shop=self.shop, defaults={**defaults, "source": "api"}, **ids
            )
            if not created:
                raise _conflict_after_race(request, self.shop, ids)
            if "tags" in sent or "segment" in sent:
                customer_update(
                    customer=customer,
                    fields={},
                    tag_names=_tag_names(sent),
                    segment=sent.get("segment"),
                    actor=self.actor,
                )
        customer = self.get_queryset().get(pk=customer.pk)
        body = CustomerSerializer(customer, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": str(body["url"])})

    @extend_schema(
        summary="Change a customer",
        description="Only the fields sent change, with the edit page's rules (409 as for a create). "
        "Names sent are a person's and are never overwritten by names read from messages; a segment "
        "sent is pinned.",
        request=CustomerWriteSerializer,
        responses={200: CustomerSerializer, **error_responses(400, 403, 404, 409)},
        examples=[OpenApiExample("New e-mail", value={"email": "julie@example.com"}, request_only=True)],
    )
    def partial_update(self, request, *args, **kwargs):
        customer = self.get_object()
        form, sent = _validated_form(customer, request, partial=True)
        changes = {name: form.cleaned_data[name] for name in sent if name in CUSTOMER_EDITABLE_FIELDS}
        try:
            with transaction.atomic():
                customer_update(
                    customer=customer,
                    fields=changes,
                    tag_names=_tag_names(sent),
                    segment=sent.get("segment"),
                    actor=self.actor,
                )
        except IntegrityError:
            raise _conflict_after_race(request, self.shop, changes) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=customer.pk)).data)

    def destroy(self, request, *args, **kwargs):
        customer_erase(customer=self.get_object(), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Everything held on a customer (GDPR export, owner scope)",
        description="Profile, tags, messages, notes, orders and history, as the customer page's "
        "*Export data (JSON)* gives them, except the providers' media URLs and ids (files are "
        "described, as in the messages list).",
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                examples=[
                    OpenApiExample(
                        "Export",
                        value={
                            "exported_at": "2026-12-02T10:00:00+00:00",
                            "shop": {"name": "Maison Coccinelle", "slug": "maison-coccinelle"},
                            "profile": {"id": 42, "first_name": "Julie", "phone": "+33698765432"},
                            "tags": ["mariage"],
                            "interactions": [],
                            "notes": [],
                            "orders": [],
                            "history": [],
                        },
                    )
                ],
            ),
            **error_responses(403, 404),
        },
    )
    @action(detail=True, methods=["get"])
    def export(self, request, *args, **kwargs):
        return Response(customer_export_data(customer=self.get_object()))

    @extend_schema(
        summary="Merge other customers into this one (owner scope)",
        description="Without `confirm` (or with `false`), answers what the merge would do, as the admin's "
        "merge page shows it, and changes nothing: the records, the empty fields the others fill, the "
        "phones and e-mails the kept record does not take (they go into a note), and `conflicts` when "
        "the records hold different phones or e-mails (they may be two people). With `confirm: true` "
        "(and `confirm_conflicts: true` when there are `conflicts`, else a 400), merges (messages, "
        "notes, orders, tags and history move to this customer, the others are deleted) and answers "
        "the kept customer.",
        request=MergeRequestSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="MergeResult",
                serializers=[MergePreviewSerializer, CustomerSerializer],
                resource_type_field_name=None,
            ),
            **error_responses(400, 403, 404),
        },
        examples=[
            OpenApiExample("Preview", value={"merge": [43, 57]}, request_only=True),
            OpenApiExample("Merge", value={"merge": [43, 57], "confirm": True}, request_only=True),
            OpenApiExample(
                "Merge despite conflicts",
                value={"merge": [43], "confirm": True, "confirm_conflicts": True},
                request_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, *args, **kwargs):
        keep = self.get_object()
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        others = self._merge_others(keep, body.validated_data["merge"])
        if not body.validated_data["confirm"]:
            return Response(self._merge_preview(keep, others))
        if merge_conflicts([keep, *others]) and not body.validated_data["confirm_conflicts"]:
            # The admin's rule: two phones or two e-mails may be two people, a merge needs a second yes.
            raise exceptions.ValidationError(
                {
                    "confirm_conflicts": [
                        _(
                            "These records hold different phones or e-mails: send "
                            "confirm_conflicts: true to merge them anyway."
                        )
                    ]
                }
            )
        result = customer_merge(keep=keep, others=others, actor=self.actor)
        return Response(self.get_serializer(self.get_queryset().get(pk=result.kept.pk)).data)

    def _merge_others(self, keep: Customer, ids: list[int]) -> list[Customer]:
        wanted = set(ids) - {keep.pk}
        if not wanted:
            raise exceptions.ValidationError({"merge": [_("Name at least one other customer.")]})
        others = list(
            self.get_queryset()
            .filter(pk__in=wanted)
            .annotate(
                messages_count=Count("interactions", distinct=True),
                notes_count=Count("notes", distinct=True),
                orders_total=Count("orders", distinct=True),
            )
            .order_by("pk")
        )
        if len(others) != len(wanted):  # another shop's id reads as one that does not exist
            raise exceptions.NotFound()
        return others

    def _merge_preview(self, keep: Customer, others: list[Customer]) -> dict:
        """What customer_merge would do, worked out the way it does it: others in id order, each filling
        the kept record's empty fields, then giving up the identifiers it still holds apart."""
        future = copy.copy(keep)
        fills, not_kept = {}, []
        for other in others:
            for field in MERGE_FILLABLE_FIELDS:
                if not getattr(future, field) and getattr(other, field):
                    setattr(future, field, getattr(other, field))
                    fills[field] = getattr(other, field)
            values = merge_identifiers_not_kept(future, other)
            if values:
                not_kept.append({"customer_id": other.pk, "values": values})
        context = self.get_serializer_context()
        return {
            "confirmed": False,
            "keep": CustomerSerializer(keep, context=context).data,
            "merge": MergeCandidateSerializer(others, many=True, context=context).data,
            "fills": fills,
            "not_kept": not_kept,
            "conflicts": merge_conflicts([keep, *others]),
        }


def customer_of_shop(shop, customer_id) -> Customer:
    """A customer of `shop` for the nested resources (notes, orders, messages); any other id is a 404."""
    return get_object_or_404(Customer.objects.select_related("shop"), pk=customer_id, shop=shop)
