"""Owners' pages for the shop's saved replies and WhatsApp templates, linked from the shop settings.

Thin: forms parse, webhooks.saved_replies and webhooks.wa_templates change things. Owners only (like
the shop settings); staff use both from the send box.
"""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from coccinelle.http import ExternalServiceError
from customers.access import dashboard_view
from webhooks.forms import SavedReplyForm, WabaForm, WhatsAppTemplateForm
from webhooks.models import SavedReply, WhatsAppTemplate
from webhooks.saved_replies import SavedReplyNameTaken, saved_reply_delete, saved_reply_save
from webhooks.send_outcome import translated_reason
from webhooks.wa_templates import (
    TemplatesUnavailable,
    meta_addresses,
    template_delete,
    templates_fetch,
    waba_id_for,
    waba_id_set,
    whatsapp_provider,
)

# Saved replies


@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def saved_replies_page(request):
    form = SavedReplyForm(request.POST or None)
    if request.method == "POST" and _saved(request, form):
        messages.success(request, _("Saved reply added."))
        return redirect("saved-replies")
    replies = SavedReply.objects.filter(shop=request.shop)
    return render(
        request,
        "dashboard/saved_replies.html",
        {"form": form, "replies": replies},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def saved_reply_edit(request, reply_id):
    reply = get_object_or_404(SavedReply, pk=reply_id, shop=request.shop)
    form = SavedReplyForm(request.POST or None, initial=SavedReplyForm.initial_for(reply))
    if request.method == "POST" and _saved(request, form, reply):
        messages.success(request, _("Saved reply updated."))
        return redirect("saved-replies")
    return render(
        request,
        "dashboard/saved_reply_edit.html",
        {"form": form, "reply": reply},
        status=400 if form.errors else 200,
    )


@require_POST
@dashboard_view(owner_only=True)
def saved_reply_remove(request, reply_id):
    if saved_reply_delete(shop=request.shop, reply_id=reply_id):
        messages.success(request, _("Saved reply deleted."))
    return redirect("saved-replies")


def _saved(request, form, reply=None) -> bool:
    if not form.is_valid():
        return False
    try:
        saved_reply_save(shop=request.shop, name=form.cleaned_data["name"], texts=form.texts(), reply=reply)
    except SavedReplyNameTaken:
        form.add_error("name", _("Another saved reply has this name."))
        return False
    return True


# WhatsApp templates


@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def templates_page(request):
    form = WhatsAppTemplateForm(request.POST or None, instance=WhatsAppTemplate(shop=request.shop))
    form.fields["provider"].initial = whatsapp_provider(request.shop.pk)
    if request.method == "POST" and _template_saved(form):
        messages.success(request, _("Template added."))
        return redirect("whatsapp-templates")
    return _templates_render(request, form)


def _templates_render(request, form, waba_form=None, status=None):
    context = {
        "form": form,
        "waba_form": waba_form or WabaForm(initial={"waba_id": waba_id_for(request.shop)}),
        "has_meta_number": meta_addresses(request.shop).exists(),
        "provider": whatsapp_provider(request.shop.pk),
        "templates": WhatsAppTemplate.objects.filter(shop=request.shop),
    }
    status = status or (400 if form.errors or (waba_form and waba_form.errors) else 200)
    return render(request, "dashboard/whatsapp_templates.html", context, status=status)


@require_http_methods(["GET", "POST"])
@dashboard_view(owner_only=True)
def template_edit(request, template_id):
    template = get_object_or_404(WhatsAppTemplate, pk=template_id, shop=request.shop)
    form = WhatsAppTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and _template_saved(form):
        messages.success(request, _("Template updated."))
        return redirect("whatsapp-templates")
    return render(
        request, "dashboard/whatsapp_template_edit.html", {"form": form, "template": template},
        status=400 if form.errors else 200,
    )  # fmt: skip


def _template_saved(form) -> bool:
    if not form.is_valid():
        return False
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError:
        form.add_error("name", _("The shop already has this template in this language."))
        return False
    return True


@require_POST
@dashboard_view(owner_only=True)
def template_remove(request, template_id):
    if template_delete(shop=request.shop, template_id=template_id):
        messages.success(request, _("Template deleted."))
    return redirect("whatsapp-templates")


@require_POST
@dashboard_view(owner_only=True)
def templates_fetch_view(request):
    try:
        count = templates_fetch(shop=request.shop)
    except TemplatesUnavailable as exc:
        messages.error(request, translated_reason(str(exc)))
    except ExternalServiceError as exc:
        # The provider's own answer (never a credential: coccinelle.http keeps those out of errors).
        messages.error(
            request, _("The provider refused: %(reason)s") % {"reason": translated_reason(str(exc))}
        )
    else:
        messages.success(request, _("Templates read from the provider: %(count)d.") % {"count": count})
    return redirect("whatsapp-templates")


@require_POST
@dashboard_view(owner_only=True)
def waba_set_view(request):
    waba_form = WabaForm(request.POST)
    if not waba_form.is_valid():
        form = WhatsAppTemplateForm(instance=WhatsAppTemplate(shop=request.shop))
        return _templates_render(request, form, waba_form)
    try:
        waba_id_set(shop=request.shop, waba_id=waba_form.cleaned_data["waba_id"])
    except TemplatesUnavailable as exc:
        messages.error(request, translated_reason(str(exc)))
    except ExternalServiceError as exc:
        messages.error(
            request, _("The provider refused: %(reason)s") % {"reason": translated_reason(str(exc))}
        )
    else:
        messages.success(request, _("WhatsApp Business Account id saved."))
    return redirect("whatsapp-templates")
