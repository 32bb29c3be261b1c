"""The owners' pages for outgoing webhooks, under /dashboard/shop/webhooks/ (linked from the shop
settings). Thin: the form parses, crm_backends.outgoing.services changes things, selectors read.
Owners only; every id is looked up within the current shop, so another shop's is a 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from crm_backends import crypto
from crm_backends.outgoing import selectors, services
from crm_backends.outgoing.delivery import MAX_ATTEMPTS
from crm_backends.outgoing.forms import EndpointForm
from customers.access import dashboard_view


@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def endpoints_page(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = _saved(
            form, lambda data: services.endpoint_create(shop=request.shop, actor=request.user, **data)
        )
        if endpoint is not None:
            messages.success(
                request, _("Endpoint added. Copy its signing secret below to verify what it receives.")
            )
            return redirect("outgoing-webhook", endpoint.pk)
    context = {"form": form, "endpoints": selectors.endpoints_for_shop(request.shop)}
    return render(request, "dashboard/webhooks.html", context, status=400 if form.errors else 200)


@never_cache  # the page shows the signing secret
@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def endpoint_page(request, endpoint_id):
    endpoint = _endpoint(request, endpoint_id)
    form = EndpointForm(request.POST or None, initial=EndpointForm.initial_for(endpoint))
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            form, lambda data: services.endpoint_update(endpoint=endpoint, actor=request.user, **data)
        )
        if saved is not None:
            messages.success(request, _("Endpoint updated."))
            return redirect("outgoing-webhook", endpoint.pk)
    try:
        secret = endpoint.secret
    except crypto.SecretsUnreadable:
        secret = None
    context = {
        "form": form,
        "endpoint": endpoint,
        "secret": secret,
        "deliveries": selectors.deliveries_for_endpoint(endpoint),
        "max_attempts": MAX_ATTEMPTS,
    }
    return render(request, "dashboard/webhook_endpoint.html", context, status=400 if form.errors else 200)


@require_POST
@dashboard_view(owner_only=True)
def endpoint_enable_view(request, endpoint_id):
    services.endpoint_enable(endpoint=_endpoint(request, endpoint_id), actor=request.user)
    messages.success(request, _("Endpoint enabled: what waited is being sent."))
    return redirect("outgoing-webhook", endpoint_id)


@require_POST
@dashboard_view(owner_only=True)
def endpoint_disable_view(request, endpoint_id):
    services.endpoint_disable(endpoint=_endpoint(request, endpoint_id), actor=request.user)
    messages.success(request, _("Endpoint disabled: nothing is sent to it."))
    return redirect("outgoing-webhook", endpoint_id)


@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def endpoint_delete_view(request, endpoint_id):
    """GET asks (the endpoint, its secret and its deliveries' history go for good); POST deletes."""
    endpoint = _endpoint(request, endpoint_id)
    if request.method == "GET":
        return render(request, "dashboard/webhook_delete.html", {"endpoint": endpoint})
    services.endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, _("Endpoint deleted."))
    return redirect("outgoing-webhooks")


@require_POST
@dashboard_view(owner_only=True)
def endpoint_rotate_view(request, endpoint_id):
    services.endpoint_rotate_secret(endpoint=_endpoint(request, endpoint_id), actor=request.user)
    messages.success(request, _("New signing secret in force: update your receiver with it."))
    return redirect("outgoing-webhook", endpoint_id)


@require_POST
@dashboard_view(owner_only=True)
def endpoint_ping_view(request, endpoint_id):
    services.endpoint_ping(endpoint=_endpoint(request, endpoint_id), actor=request.user)
    messages.success(request, _("Test event queued: it shows below once sent."))
    return redirect("outgoing-webhook", endpoint_id)


@require_POST
@dashboard_view(owner_only=True)
def delivery_replay_view(request, delivery_id):
    delivery = selectors.delivery_for_shop(request.shop, delivery_id)
    if delivery is None:
        raise Http404
    services.delivery_replay(delivery=delivery, actor=request.user)
    messages.success(request, _("Delivery queued again."))
    return redirect("outgoing-webhook", delivery.endpoint_id)


def _endpoint(request, endpoint_id):
    endpoint = selectors.endpoint_for_shop(request.shop, endpoint_id)
    if endpoint is None:
        raise Http404
    return endpoint


def _saved(form, save):
    """Call the service; its refusals (a URL that resolves differently now) become form errors."""
    try:
        return save({"url": form.cleaned_data["url"], "events": form.cleaned_data["events"]})
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return None
