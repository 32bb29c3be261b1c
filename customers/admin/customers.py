"""The customer admin: the list (search, filters, bulk actions), the profile page with its notes, orders
and timeline, and deletion as a GDPR erasure."""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers import display
from customers.admin import actions
from customers.admin.base import ALL, EDIT, OWNER, STAFF, ScopedInline, ShopScopedAdmin, user_roles
from customers.admin.forms import CustomerForm, OrderInlineForm
from customers.admin.records import delivery_label
from customers.forms import CHANNEL_LABELS, SEGMENT_LABELS
from customers.models import Customer, Interaction, Note, Order, Tag
from customers.paging import CappedPaginator
from customers.privacy import customer_erase
from customers.selectors import customer_figures, customer_search_filter, shops_for_user
from customers.services import NOTE_MAX_CHARS, customers_set_segment, note_add
from customers.templatetags.dashboard import email_breaks

TIMELINE_LENGTH = 50


class NoteInline(ScopedInline, admin.StackedInline):
    """Existing notes are read-only (no change permission); one empty form adds a note."""

    model = Note
    extra = 1
    text_limits = {"body": NOTE_MAX_CHARS}
    fields = ["body", "author", "created_at"]
    readonly_fields = ["author", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderInline(ScopedInline, admin.TabularInline):
    model = Order
    form = OrderInlineForm
    extra = 0
    fields = ["reference", "amount", "currency", "placed_at"]


class LatestInteractionsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            self._queryset = super().get_queryset().order_by("-occurred_at", "-id")[:TIMELINE_LENGTH]
        return self._queryset


class InteractionTimelineInline(ScopedInline, admin.TabularInline):
    model = Interaction
    formset = LatestInteractionsFormSet
    fields = ["occurred_at", "direction", "channel", "body", "delivery"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = format_lazy(_("Timeline (latest {count} messages)"), count=TIMELINE_LENGTH)

    @admin.display(description=_("delivery"))
    def delivery(self, obj):
        return delivery_label(obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def titled(title):
    """A field's own filter (choices, yes/no) under a translated title: the model's verbose names are
    English, and translating them would be a migration of each field for nothing else."""

    class Titled(admin.FieldListFilter):
        # The admin's checks want a FieldListFilter subclass; __new__ hands back the filter Django
        # would have picked for the field, retitled.
        def __new__(cls, field, request, params, model, model_admin, field_path):
            spec = admin.FieldListFilter.create(field, request, params, model, model_admin, field_path)
            spec.title = title
            return spec

    return Titled


def labelled_choices(field, title, labels):
    """A choices filter under a translated title with the pages' translated labels (the model's choice
    labels are English, and translating them would be a migration); same URL parameter as Django's."""

    class Labelled(admin.SimpleListFilter):
        parameter_name = f"{field}__exact"

        def lookups(self, request, model_admin):
            return [(value, label) for value, label in labels.items()]

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    Labelled.title = title
    return Labelled


class TagListFilter(admin.SimpleListFilter):
    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        shops = model_admin.shops_where(request, "view")
        tags = Tag.objects.filter(shop__in=shops).select_related("shop")
        several = request.user.is_superuser or len(user_roles(request)) > 1
        return [(str(t.pk), f"{t.name} ({t.shop.name})" if several else t.name) for t in tags]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(tags__pk=self.value())
        return queryset


class OptedOutFilter(admin.SimpleListFilter):
    title = _("opted out")
    parameter_name = "opted_out"

    def lookups(self, request, model_admin):
        return [("yes", _("Opted out")), ("no", _("Reachable"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(opted_out_at__isnull=self.value() == "no")
        return queryset


@admin.register(Customer)
class CustomerAdmin(ShopScopedAdmin):
    form = CustomerForm
    role_permissions = {OWNER: ALL | {"merge", "export"}, STAFF: EDIT}
    superuser_permissions = ALL | {"merge", "export"}
    list_display = [
        "name",
        "phone_number",
        "email_address",
        "segment_label",
        "tag_list",
        "channel_label",
        "last_contact",
        "attention",
    ]
    list_filter = [
        labelled_choices("segment", _("segment"), SEGMENT_LABELS),
        labelled_choices("preferred_channel", _("preferred channel"), CHANNEL_LABELS),
        TagListFilter,
        ("needs_attention", titled(_("needs attention"))),
        OptedOutFilter,
    ]
    list_select_related = ["shop"]
    # With 100,000 customers a shop: 50 rows render in half the time of Django's 100, and the total
    # beside a filtered count would be a second count of the whole shop on every search.
    list_per_page = 50
    show_full_result_count = False
    paginator = CappedPaginator  # the first 40 pages numbered (customers/paging.py)
    search_fields = ["first_name", "last_name", "email", "phone"]
    search_help_text = _("Name, e-mail or phone in any format (06 98 76 54 32 finds +33698765432).")
    autocomplete_fields = ["tags"]
    inlines = [NoteInline, OrderInline, InteractionTimelineInline]
    actions = [
        actions.merge_selected,
        actions.export_selected_csv,
        actions.export_selected_csv_excel,
        actions.set_segment,
        actions.add_tag,
    ]
    figures = ["orders_count", "revenue", "average_basket", "customer_since", "all_interactions"]
    readonly_fields = [
        "name_source",
        # Consent changes only by the customer's own STOP and START, never by an edit.
        "opted_out_at",
        "first_contact_at",
        "last_contact_at",
        "source",
        "created_at",
        "updated_at",
        *figures,
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "shop",
                    ("first_name", "last_name"),
                    "name_source",
                    "phone",
                    "email",
                    "whatsapp_user_id",
                ]
            },
        ),
        (
            _("Relationship"),
            {
                "fields": [
                    "segment",
                    "segment_manual",
                    "tags",
                    "preferred_channel",
                    "language",
                    "needs_attention",
                    "opted_out_at",
                ]
            },
        ),
        (_("Address"), {"fields": ["address_line1", "address_line2", ("postal_code", "city"), "country"]}),
        (
            _("Figures"),
            {
                "fields": [
                    *figures,
                    "first_contact_at",
                    "last_contact_at",
                    "source",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shop").prefetch_related("tags")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "shop"] if obj is not None else fields

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj is not None else self.fieldsets[:-1]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        countries = set(shops_for_user(request.user).values_list("country", flat=True))
        return queryset.filter(customer_search_filter(search_term, countries)), False

    def has_merge_permission(self, request):
        return self.role_allows(request, "merge")

    def has_export_permission(self, request):
        return self.role_allows(request, "export")

    @admin.display(description=_("name"), ordering="last_name")
    def name(self, obj):
        return obj.display_name

    @admin.display(description=_("phone"), ordering="phone")
    def phone_number(self, obj):
        return display.phone_display(obj.phone, obj.shop.country) or "—"

    @admin.display(description=_("e-mail"), ordering="email")
    def email_address(self, obj):
        return email_breaks(obj.email) or "—"

    # Columns under translated titles: the model's verbose names are English, and translating them
    # would be a migration of each field.
    @admin.display(description=_("segment"), ordering="segment")
    def segment_label(self, obj):
        return SEGMENT_LABELS.get(obj.segment, obj.segment)

    @admin.display(description=_("preferred channel"), ordering="preferred_channel")
    def channel_label(self, obj):
        return CHANNEL_LABELS.get(obj.preferred_channel, obj.preferred_channel) or "—"

    @admin.display(description=_("last contact"), ordering="last_contact_at")
    def last_contact(self, obj):
        return (
            date_format(localtime(obj.last_contact_at), "SHORT_DATETIME_FORMAT")
            if obj.last_contact_at
            else "—"
        )

    @admin.display(description=_("needs attention"), boolean=True, ordering="needs_attention")
    def attention(self, obj):
        return obj.needs_attention

    @admin.display(description=_("tags"))
    def tag_list(self, obj):
        return ", ".join(tag.name for tag in obj.tags.all())

    def _figures(self, obj):
        if obj is None or obj.pk is None:
            return {}
        if not hasattr(obj, "_admin_figures"):
            obj._admin_figures = customer_figures(obj)
        return obj._admin_figures

    @admin.display(description=_("orders"))
    def orders_count(self, obj):
        return self._figures(obj).get("orders_count", "—")

    # Money and dates as the pages show them (`1 916,10 €`, `16/07/2026 10:36`), not Python's reprs:
    # SQLite hands sums back as 1916.10000000000.
    @admin.display(description=_("revenue"))
    def revenue(self, obj):
        return self._money(obj, "revenue")

    @admin.display(description=_("average basket"))
    def average_basket(self, obj):
        return self._money(obj, "average_basket")

    @admin.display(description=_("customer since"))
    def customer_since(self, obj):
        since = self._figures(obj).get("customer_since")
        return date_format(localtime(since), "SHORT_DATETIME_FORMAT") if since else "—"

    def _money(self, obj, figure):
        value = self._figures(obj).get(figure)
        return display.money_display(value, display.shop_currency(obj.shop)) if value is not None else "—"

    @admin.display(description=_("messages"))
    def all_interactions(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:customers_interaction_changelist")
        return format_html(
            '<a href="{}?customer__id__exact={}">{}</a>',
            url,
            obj.pk,
            gettext("All %(count)d messages") % {"count": obj.interactions.count()},
        )

    def save_model(self, request, obj, form, change):
        if {"first_name", "last_name"} & set(form.changed_data):
            obj.name_source = Customer.NameSource.HUMAN
        super().save_model(request, obj, form, change)
        if "segment" in form.changed_data:
            customers_set_segment(customers=[obj], segment=obj.segment, actor=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is Note:
            for note in formset.save(commit=False):
                if note.pk is None and note.body.strip():
                    note_add(customer=form.instance, body=note.body, author=request.user)
            return
        if formset.model is Order:
            for order_form in formset.forms:
                order_form.instance.shop_id = form.instance.shop_id
        super().save_formset(request, form, formset, change)

    def get_deleted_objects(self, objs, request):
        # Deleting a customer is a GDPR erasure: it takes their messages, notes and history with it, which
        # the customer delete permission covers even though those rows cannot be deleted one by one. The
        # customers themselves are not waved through: each needs the delete permission in its own shop.
        deleted, counts, _related_perms, protected = super().get_deleted_objects(objs, request)
        refused = {self.opts.verbose_name for obj in objs if not self.has_delete_permission(request, obj)}
        return deleted, counts, refused, protected

    def delete_model(self, request, obj):
        customer_erase(customer=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            customer_erase(customer=customer, actor=request.user)
