"""The owners' API keys page, linked from the shop settings: list, create (the key shown once), revoke.

The key itself appears only in the answer to the POST that created it: never in a URL, a message (the
messages framework may keep them in a cookie), the session or a log, and that answer is not cached.
"""

import secrets

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from customers.access import dashboard_view
from customers.api_keys import api_key_create, api_key_revoke
from customers.forms import API_KEY_SCOPE_LABELS, API_KEY_SCOPE_SHORT, ApiKeyForm
from customers.models_keys import ApiKey


def _keys(shop) -> list[ApiKey]:
    keys = list(ApiKey.objects.filter(shop=shop).select_related("created_by"))
    for key in keys:
        key.scope_label = API_KEY_SCOPE_SHORT.get(key.scope, key.scope)
    return keys


@never_cache
@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def api_keys_page(request):
    form = ApiKeyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if _form_sent_before(request):
            # The browser sent the same form again (a reload of the page that showed the key): no
            # second key, which the owner would not have copied.
            messages.warning(request, _(ALREADY_CREATED))
            return redirect("dashboard:api-keys")
        key, raw = api_key_create(
            shop=request.shop,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            actor=request.user,
        )
        return render(
            request,
            "dashboard/api_key_created.html",
            {"key": key, "raw_key": raw, "scope_label": API_KEY_SCOPE_LABELS[key.scope]},
        )
    return render(
        request,
        "dashboard/api_keys.html",
        {"form": form, "keys": _keys(request.shop), "once": secrets.token_urlsafe(12)},
        status=400 if form.errors else 200,
    )


ALREADY_CREATED = (
    "This form was already sent: its key was created and shown once. If it was not copied, revoke it "
    "below and create another."
)
USED_FORMS_KEPT = 20


def _form_sent_before(request) -> bool:
    """Each rendering of the form carries a random `once`; the ones used are kept in the session (the
    form's token, never the key), so that the same form sent twice creates one key."""
    once = request.POST.get("once", "")
    if not once:
        return False
    used = request.session.get("api_key_forms_used", [])
    if once in used:
        return True
    request.session["api_key_forms_used"] = [*used, once][-USED_FORMS_KEPT:]
    return False


@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def api_key_revoke_page(request, key_id):
    """A confirmation step, then the revocation: integrations using the key stop working at once."""
    key = get_object_or_404(ApiKey, pk=key_id, shop=request.shop)  # another shop's key is a 404
    if request.method == "POST":
        api_key_revoke(key=key)
        messages.success(request, _("Key “%(name)s” revoked.") % {"name": key.name})
        return redirect("dashboard:api-keys")
    return render(request, "dashboard/api_key_revoke.html", {"key": key})
