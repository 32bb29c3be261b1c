"""The dashboard pages of owners and staff: customer list, customer page, notes, edit, export, erase.

Thin views: `dashboard_view` resolves the current shop and role, forms parse input, selectors read and
services write. Every customer is looked up within `request.shop`, so another shop's id is a 404. The
*Send message* action lives in `webhooks.staff_views` (customers never imports webhooks).
"""

import copy
import json

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import IntegrityError
from django.db.models import Count, Window
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.access import dashboard_view, shop_customer_or_404, switch_shop
from customers.csv_io import DIALECTS, write_customers_csv
from customers.forms import (
    CHANNEL_LABELS,
    SEGMENT_LABELS,
    ConfirmForm,
    CustomerEditForm,
    CustomerFilterForm,
    NoteForm,
    ShopSettingsPageForm,
    StaffMessageForm,
)
from customers.inbox import customer_thread, recent_outbound, shop_people
from customers.keyset import decode_cursor, encode_cursor, keyset_page
from customers.paging import CappedPaginator
from customers.privacy import customer_erase, customer_export_data
from customers.selectors import (
    customer_figures,
    customer_filter,
    customer_list,
    customer_timeline,
    customers_written_after,
    dashboard_stats,
    interactions_after,
    latest_interaction_id,
    list_is_unfiltered,
)
from customers.services import (
    customer_confirm_profile_name,
    customer_resolve_attention,
    customer_update,
    note_add,
    profile_name_split,
    shop_update,
)

TABS = ("conversation", "overview", "activity", "notes")
THREAD_MESSAGE = "dashboard/_thread_message.html"
NOTES_SHOWN = 200


def _int(value, default=0) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


# --- the list ---------------------------------------------------------------------------------------


# The first pages have numbers (OFFSET is cheap there); beyond, Next and Previous carry the position of
# the row they continue from (customers/keyset.py), so a deep page costs what the first one does.
NUMBERED_PAGES = 5


# A ranked search has no index order to seek in: its pages keep their numbers, this many at most.
SEARCH_PAGES = 40


def _ranked_page(rows, per_page: int, asked: str | None) -> Page | None:
    """A ranked search's page and its count in one statement: the search reads every match anyway
    (to rank them), and counting them in a second statement read them all again (a name a shop's
    3,000 customers share: ~25 ms at 100,000 customers, bench/pages.py). None when the page asked
    for is past the last (the caller then shows the last one)."""
    number = _int(asked, 1) or 1
    start = (number - 1) * per_page
    found = list(rows.annotate(search_total=Window(Count("pk")))[start : start + per_page])
    if not found and number > 1:
        return None
    paginator = CappedPaginator(rows, per_page, max_pages=SEARCH_PAGES)
    paginator.count = found[0].search_total if found else 0  # a cached_property: no COUNT statement
    return Page(found, number, paginator)


def _numbered(page: str | None, sort: str | None) -> str | None:
    """The numbered page to show: past NUMBERED_PAGES (SEARCH_PAGES for a ranked search), the last
    numbered one, whatever the link said (`last`, `2000`): an OFFSET walks past every earlier row, so
    a deep page would cost its depth. Next goes on from there."""
    limit = NUMBERED_PAGES if sort else SEARCH_PAGES
    if page == "last":
        return str(limit)
    # 0, a negative or a word is page 1 (Django would take 0 and negatives for the last page).
    return str(min(_int(page, 1) or 1, limit))


@require_GET
@dashboard_view
def customer_list_page(request):
    form = CustomerFilterForm(request.GET, shop=request.shop)
    params = form.params()
    stats = dashboard_stats(request.shop)
    query = request.GET.copy()
    for name in ("page", "after", "before"):
        query.pop(name, None)
    pages = _list_pages(request, customer_list(request.shop, params), params, stats)
    return render(
        request,
        "dashboard/customer_list.html",
        {
            **pages,
            "form": form,
            "params": params,
            "stats": stats,
            "query": query.urlencode(),
            "latest_id": latest_interaction_id(request.shop),
            # New rows go on top only where the newest contact is on top.
            "live_prepend": params.get("sort", "last_contact") == "last_contact"
            and not pages["keyset"]
            and pages["page"].number == 1,
            "segment_labels": SEGMENT_LABELS,
            "channel_labels": CHANNEL_LABELS,
            # A phone folds the filters away unless one is on (static/dashboard/live.js).
            "filters_active": any(params.get(k) for k in ("segment", "channel", "tag", "attention", "sort")),
        },
    )


def _list_pages(request, rows, params: dict, stats: dict) -> dict:
    """The page of `rows` asked for: by number (`page`), or after/before a row's position (`after`,
    `before`: customers/keyset.py); with the list's count and the cursor Next carries past the
    numbered pages."""
    # A search without a chosen sort is ranked, not in an index's order: it keeps numbered pages.
    sort = None if params.get("q") and not params.get("sort") else params.get("sort", "last_contact")
    after = decode_cursor(request.GET.get("after", ""), sort) if sort else None
    before = decode_cursor(request.GET.get("before", ""), sort) if sort and not after else None
    if after or before:
        page = keyset_page(rows, sort, after=after, before=before, per_page=params["per_page"])
        count = stats["total"] if list_is_unfiltered(params) else rows.count()
        return {"page": page, "count": count, "keyset": True, "next_cursor": ""}
    if sort is None:
        counted = _ranked_page(rows, params["per_page"], _numbered(request.GET.get("page"), sort))
        if counted is not None:
            return {"page": counted, "count": counted.paginator.count, "keyset": False, "next_cursor": ""}
    if sort is None:
        paginator = CappedPaginator(rows, params["per_page"], max_pages=SEARCH_PAGES)
    else:
        paginator = Paginator(rows, params["per_page"])
    if list_is_unfiltered(params):
        # The stat cards just counted the shop's customers: that is this list's count (a
        # cached_property, set here so that the paginator does not count them again).
        paginator.count = stats["total"]
    page = paginator.get_page(_numbered(request.GET.get("page"), sort))
    next_cursor = ""
    if sort and page.number >= NUMBERED_PAGES and page.has_next():
        next_cursor = encode_cursor(page[-1], sort)  # indexing a Page turns its rows into a list
    return {"page": page, "count": paginator.count, "keyset": False, "next_cursor": next_cursor}


@require_GET
@dashboard_view(owner_only=True)
def customer_list_export(request):
    """Exactly the customers of the filtered list (all pages), in the one CSV format of every export."""
    params = CustomerFilterForm(request.GET, shop=request.shop).params()
    # ?csv=excel: `;`, decimal commas and a BOM, for Excel in French (csv_io.DIALECTS).
    dialect = DIALECTS.get(request.GET.get("csv", ""), DIALECTS["standard"])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"customers-{request.shop.slug}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    write_customers_csv(customer_filter(request.shop, params), response, dialect)
    return response


@require_GET
@dashboard_view
def customer_list_updates(request):
    """Rows of the filtered list whose customer wrote after message `after` (polled by live.js)."""
    params = CustomerFilterForm(request.GET, shop=request.shop).params()
    customer_ids, latest = customers_written_after(request.shop, _int(request.GET.get("after")))
    rows = customer_list(request.shop, params).filter(pk__in=customer_ids) if customer_ids else []
    context = {"segment_labels": SEGMENT_LABELS, "channel_labels": CHANNEL_LABELS}
    return JsonResponse(
        {
            "after": latest,
            # The stat cards move too (a new customer, one handled by a colleague): one indexed query.
            "stats": dashboard_stats(request.shop),
            "rows": [
                {
                    "id": customer.pk,
                    "html": render_to_string(
                        "dashboard/_customer_row.html", {**context, "customer": customer}, request
                    ),
                }
                for customer in rows
            ],
            "announce": _("New message from %(names)s") % {"names": ", ".join(c.display_name for c in rows)}
            if rows
            else "",
        }
    )


# --- one customer -----------------------------------------------------------------------------------


def render_customer_detail(request, customer, *, tab=None, note_form=None, send_form=None, status=200):
    """The customer page; the send view (webhooks) renders it too, to show its form's errors in place."""
    tab = tab if tab in TABS else request.GET.get("tab", "conversation")
    tab = tab if tab in TABS else "conversation"
    context = {
        "customer": customer,
        "tags": list(customer.tags.all()),
        "segment_label": SEGMENT_LABELS.get(customer.segment, customer.segment),
        "channel_labels": CHANNEL_LABELS,
        "figures": customer_figures(customer),
        "tab": tab,
        "tabs": [
            ("conversation", _("Conversation")),
            ("overview", _("Overview")),
            ("activity", _("Activity")),
            ("notes", _("Notes")),
        ],
        "people": shop_people(customer.shop),
        "note_form": note_form or NoteForm(),
        "send_form": send_form or StaffMessageForm(initial={"channel": _default_channel(customer)}),
        "latest_id": latest_interaction_id_for(customer),
        # What the customer last wrote, as on the list: the shop's own replies are not their activity.
        "last_message": customer.interactions.filter(direction="inbound")
        .order_by("-occurred_at", "-pk")
        .first(),
        "profile_name_confirmable": _profile_name_confirmable(customer),
    }
    if tab == "conversation":
        before = _int(request.GET.get("before")) or None
        context["thread"], context["thread_earlier"] = customer_thread(customer, before=before)
        context["thread_is_latest"] = before is None
    if tab == "activity":
        context["timeline"] = customer_timeline(customer, _int(request.GET.get("page"), 1) or 1)
    if tab == "notes":
        context["notes"] = customer.notes.select_related("author")[:NOTES_SHOWN]
    return render(request, "dashboard/customer_detail.html", context, status=status)


def _profile_name_confirmable(customer) -> bool:
    """Offer "Use as name" unless a person already made the WhatsApp name the customer's name."""
    if not customer.profile_name:
        return False
    split = profile_name_split(customer.profile_name)
    return customer.name_source != "human" or split != (customer.first_name, customer.last_name)


def latest_interaction_id_for(customer) -> int:
    return customer.interactions.order_by("-pk").values_list("pk", flat=True).first() or 0


def _default_channel(customer) -> str:
    return "whatsapp" if customer.preferred_channel == "whatsapp" else "sms"


@require_GET
@dashboard_view
def customer_detail(request, customer_id):
    return render_customer_detail(request, shop_customer_or_404(request, customer_id))


@require_GET
@dashboard_view
def customer_updates(request, customer_id):
    """The customer's messages after `after`, as timeline entries (polled by live.js)."""
    customer = shop_customer_or_404(request, customer_id)
    after = _int(request.GET.get("after"))
    new = list(interactions_after(customer, after))
    statuses = []
    if request.GET.get("view") == "thread":  # the Conversation tab: chat bubbles
        html = [render_to_string(THREAD_MESSAGE, {"item": i}, request) for i in new]
        shown = _shown_statuses(request.GET.get("statuses", ""))
        statuses = [
            {"id": i.pk, "status": i.status, "html": render_to_string(THREAD_MESSAGE, {"item": i}, request)}
            for i in recent_outbound(customer, up_to=after)
            if i.pk in shown and shown[i.pk] != i.status
        ]
    else:
        entry = "dashboard/_timeline_entry.html"
        html = [render_to_string(entry, {"entry": {"kind": "message", "item": i}}, request) for i in new]
    inbound = [i for i in new if i.direction == "inbound"]
    return JsonResponse(
        {
            "after": new[-1].pk if new else after,
            "entries": html,
            "statuses": statuses,
            "announce": _("New message from %(name)s") % {"name": customer.display_name} if inbound else "",
        }
    )


def _shown_statuses(value: str) -> dict[int, str]:
    """`id:status,id:status` (what the page shows of the shop's recent messages) as a dict."""
    shown = {}
    for pair in value.split(",")[:50]:
        pk, _, status = pair.partition(":")
        if pk.isascii() and pk.isdigit():
            shown[int(pk)] = status
    return shown


@require_POST
@dashboard_view
def customer_note_add(request, customer_id):
    customer = shop_customer_or_404(request, customer_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return render_customer_detail(request, customer, tab="notes", note_form=form, status=400)
    note_add(customer=customer, body=form.cleaned_data["body"], author=request.user)
    messages.success(request, _("Note added."))
    return redirect(f"{reverse('dashboard:customer-detail', args=[customer.pk])}?tab=notes")


@require_POST
@dashboard_view
def customer_resolve(request, customer_id):
    customer = shop_customer_or_404(request, customer_id)
    customer_resolve_attention(customer=customer)
    messages.success(request, _("Marked as handled."))
    return redirect(_next_or(request, reverse("dashboard:customer-detail", args=[customer.pk])))


@require_POST
@dashboard_view
def customer_confirm_name(request, customer_id):
    """ "Use as name": the WhatsApp profile name becomes the customer's name, confirmed by a person
    (owners and staff, like the edit form, where the split can be corrected)."""
    customer = shop_customer_or_404(request, customer_id)
    if customer.profile_name:
        customer_confirm_profile_name(customer=customer)
        messages.success(request, _("The WhatsApp name is now the customer's name. Edit it to correct it."))
    return redirect(reverse("dashboard:customer-detail", args=[customer.pk]))


@require_http_methods(["GET", "POST"])
@dashboard_view
def customer_edit(request, customer_id):
    customer = shop_customer_or_404(request, customer_id)
    # The form writes the typed values onto its instance while validating: give it a copy, so that the
    # service still sees what changed and the page header keeps the saved name.
    form = CustomerEditForm(_posted(request), instance=copy.copy(customer))
    if request.method == "POST" and form.is_valid():
        try:
            customer_update(
                customer=customer,
                fields=form.changes(),
                tag_names=form.cleaned_data["tags"],
                segment=form.cleaned_data["segment"],
                actor=request.user,
            )
        except IntegrityError:
            # Someone took the phone or e-mail between the check and the save.
            form.add_error(None, _("Another customer of this shop has just taken this phone or e-mail."))
        else:
            messages.success(request, _("Customer saved."))
            return redirect("dashboard:customer-detail", customer.pk)
    status = 400 if form.errors else 200
    return render(
        request, "dashboard/customer_edit.html", {"customer": customer, "form": form}, status=status
    )


@require_GET
@dashboard_view(owner_only=True)
def customer_export_json(request, customer_id):
    customer = shop_customer_or_404(request, customer_id)
    data = json.dumps(customer_export_data(customer=customer), ensure_ascii=False, indent=2, default=str)
    response = HttpResponse(data, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    return response


@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def customer_erase_page(request, customer_id):
    customer = shop_customer_or_404(request, customer_id)
    form = ConfirmForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        customer_erase(customer=customer, actor=request.user)
        messages.success(request, _("The customer's personal data was erased."))
        return redirect("dashboard:customer-list")
    status = 400 if form.errors else 200
    return render(
        request, "dashboard/customer_erase.html", {"customer": customer, "form": form}, status=status
    )


# --- the shop ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def shop_settings(request):
    form = ShopSettingsPageForm(_posted(request), instance=request.shop)
    if request.method == "POST" and form.is_valid():
        shop_update(shop=request.shop, fields={name: form.cleaned_data[name] for name in form.Meta.fields})
        messages.success(request, _("Shop settings saved."))
        return redirect("dashboard:shop-settings")
    return render(request, "dashboard/shop_settings.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
@dashboard_view
def shop_switch(request):
    if not switch_shop(request, _int(request.POST.get("shop"))):
        messages.error(request, _("You are not a member of that shop."))
    return redirect("dashboard:customer-list")


def _posted(request):
    """The submitted data on POST (even when empty, so that the form is bound and says what is missing)."""
    return request.POST if request.method == "POST" else None


def _next_or(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default
