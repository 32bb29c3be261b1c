"""The inbox page (/dashboard/inbox/), its live updates, and giving a conversation to someone.

Thin views over customers.inbox; every customer is looked up within `request.shop`.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from customers.access import dashboard_view, shop_customer_or_404
from customers.forms import CHANNEL_LABELS
from customers.inbox import (
    SHOWS,
    NotAMember,
    customer_assign,
    inbox_counts,
    inbox_signature,
    inbox_waiting,
    shop_people,
)
from customers.views import _next_or

INBOX_PAGE_SIZE = 50


def _inbox_context(request) -> dict:
    show = request.GET.get("show", "all")
    show = show if show in SHOWS else "all"
    paginator = Paginator(inbox_waiting(request.shop, user=request.user, show=show), INBOX_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    counts = inbox_counts(request.shop, user=request.user)
    people = shop_people(request.shop)
    # Where the row's forms come back to: the page, also when the rows came from the live updates.
    here = f"{reverse('dashboard:inbox')}?show={show}" + (f"&page={page.number}" if page.number > 1 else "")
    return {
        "here": here,
        "nav": "inbox",
        "show": show,
        "shows": [("all", _("All")), ("mine", _("Mine")), ("unassigned", _("Unassigned"))],
        "page": page,
        "rows": rows,
        "counts": counts,
        "people": people,
        "channel_labels": CHANNEL_LABELS,
        "signature": inbox_signature(rows, counts, people),
    }


@require_GET
@dashboard_view
def inbox_page(request):
    return render(request, "dashboard/inbox.html", _inbox_context(request))


@require_GET
@dashboard_view
def inbox_updates(request):
    """The inbox's rows again when they changed since the page's `after` signature (polled by live.js)."""
    context = _inbox_context(request)
    changed = context["signature"] != request.GET.get("after", "")
    html = render_to_string("dashboard/_inbox_rows.html", context, request) if changed else ""
    return JsonResponse(
        {"after": context["signature"], "html": html, "counts": context["counts"], "announce": ""}
    )


@require_POST
@dashboard_view
def customer_assign_view(request, customer_id):
    customer = shop_customer_or_404(request, customer_id)
    chosen = request.POST.get("assigned_to", "")
    user = None
    if chosen:
        wanted = int(chosen) if chosen.isascii() and chosen.isdigit() else 0
        user = get_user_model().objects.filter(pk=wanted).first()
        if user is None:
            messages.error(request, _("That person is not a member of this shop."))
            return redirect(_next_or(request, reverse("dashboard:inbox")))
    try:
        customer_assign(customer=customer, user=user)
    except NotAMember:
        messages.error(request, _("That person is not a member of this shop."))
    else:
        if user is None:
            messages.success(request, _("Conversation unassigned."))
        else:
            name = user.get_full_name() or user.get_username()
            messages.success(request, _("Conversation given to %(name)s.") % {"name": name})
    return redirect(_next_or(request, reverse("dashboard:customer-detail", args=[customer.pk])))
