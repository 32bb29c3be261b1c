"""Bulk actions of the customer admin: merge, export, set segment, add tag.

Each action receives the ticked rows of the user's shops, and runs only after ShopScopedAdmin has checked
the user's role in the shop of every one of them (the whole action is refused otherwise, see
`ShopScopedAdmin.get_actions`); it then calls a service. The three actions that ask something first
render an intermediate page that posts back to the changelist with the same `action` and
`_selected_action` values, plus `confirm`.
"""

from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.csv_io import EXCEL_FR, STANDARD, write_customers_csv
from customers.models import Customer, Tag
from customers.services import customer_merge, customers_add_tag, customers_set_segment, merge_conflicts


class SegmentForm(forms.Form):
    segment = forms.ChoiceField(choices=Customer.Segment.choices, label=_("New segment"))


class TagForm(forms.Form):
    name = forms.CharField(max_length=Tag._meta.get_field("name").max_length, label=_("Tag"), strip=True)


def _action_page(modeladmin, request, queryset, *, action, template, title, **context):
    return TemplateResponse(
        request,
        f"admin/customers/{template}",
        {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "title": title,
            "queryset": queryset,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **context,
        },
    )


@admin.action(description=_("Merge selected customers"), permissions=["merge"])
def merge_selected(modeladmin, request, queryset):
    customers = list(
        queryset.annotate(
            interactions_count=Count("interactions", distinct=True),
            notes_count=Count("notes", distinct=True),
            orders_total=Count("orders", distinct=True),
        ).order_by("created_at", "pk")
    )
    if len(customers) < 2:
        modeladmin.message_user(request, gettext("Select at least two customers to merge."), messages.ERROR)
        return None
    if len({c.shop_id for c in customers}) > 1:
        modeladmin.message_user(
            request, gettext("Only customers of the same shop can be merged."), messages.ERROR
        )
        return None
    by_pk = {str(c.pk): c for c in customers}
    conflicts = merge_conflicts(customers)
    error = ""
    if request.POST.get("confirm"):
        keep = by_pk.get(request.POST.get("keep", ""))
        if keep is None:
            error = gettext("Choose the record to keep.")
        elif conflicts and not request.POST.get("conflicts_confirmed"):
            # Two phones or two e-mails may be two people: a merge then needs a second, explicit yes.
            error = gettext("These records hold different phones or e-mails: tick the box to confirm.")
        else:
            others = [c for c in customers if c.pk != keep.pk]
            result = customer_merge(keep=keep, others=others, actor=request.user)
            moved = ", ".join(f"{n} {what}" for what, n in result.moved.items())
            modeladmin.message_user(
                request,
                gettext("Merged %(count)d record(s) into “%(kept)s” (%(moved)s).")
                % {"count": len(result.merged_ids), "kept": result.kept, "moved": moved},
                messages.SUCCESS,
            )
            return None
    return _action_page(
        modeladmin,
        request,
        customers,
        action="merge_selected",
        template="merge_confirmation.html",
        title=gettext("Merge customers"),
        keep_pk=_int_or(request.POST.get("keep"), customers[0].pk),
        conflicts=conflicts,
        error=error,
    )


def _int_or(value, default):
    return int(value) if value and str(value).isdigit() else default


@admin.action(description=_("Export selected to CSV"), permissions=["export"])
def export_selected_csv(modeladmin, request, queryset, dialect=STANDARD):
    if not queryset.exists():
        modeladmin.message_user(request, gettext("No customer to export."), messages.WARNING)
        return None
    slugs = sorted(set(queryset.values_list("shop__slug", flat=True)))
    label = slugs[0] if len(slugs) == 1 else "selection"
    filename = f"customers-{label}-{timezone.localdate():%Y-%m-%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    write_customers_csv(queryset, response, dialect)
    return response


@admin.action(description=_("Export selected to CSV for Excel (French)"), permissions=["export"])
def export_selected_csv_excel(modeladmin, request, queryset):
    return export_selected_csv(modeladmin, request, queryset, dialect=EXCEL_FR)


@admin.action(description=_("Set segment…"), permissions=["change"])
def set_segment(modeladmin, request, queryset):
    customers = list(queryset)
    if not customers:
        return None
    form = SegmentForm(request.POST if request.POST.get("confirm") else None)
    if form.is_valid():
        count = customers_set_segment(
            customers=customers, segment=form.cleaned_data["segment"], actor=request.user
        )
        label = Customer.Segment(form.cleaned_data["segment"]).label
        modeladmin.message_user(
            request,
            gettext("Segment set to %(label)s for %(count)d customer(s).") % {"label": label, "count": count},
            messages.SUCCESS,
        )
        return None
    return _action_page(
        modeladmin,
        request,
        customers,
        action="set_segment",
        template="set_segment.html",
        title=gettext("Set segment"),
        form=form,
    )


@admin.action(description=_("Add tag…"), permissions=["change"])
def add_tag(modeladmin, request, queryset):
    customers = list(queryset.select_related("shop"))
    if not customers:
        return None
    form = TagForm(request.POST if request.POST.get("confirm") else None)
    if form.is_valid():
        by_shop = defaultdict(list)
        for customer in customers:
            by_shop[customer.shop].append(customer)
        added = sum(
            customers_add_tag(shop=shop, customers=group, name=form.cleaned_data["name"])
            for shop, group in by_shop.items()
        )
        modeladmin.message_user(
            request,
            gettext("Tag “%(name)s” added to %(count)d customer(s).")
            % {"name": form.cleaned_data["name"], "count": added},
            messages.SUCCESS,
        )
        return None
    return _action_page(
        modeladmin,
        request,
        customers,
        action="add_tag",
        template="add_tag.html",
        title=gettext("Add a tag"),
        form=form,
    )
