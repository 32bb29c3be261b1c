"""The owners' pages for saved replies and WhatsApp templates, under /dashboard/shop/ (mounted in
coccinelle/urls.py next to the shop settings they are linked from)."""

from django.urls import path

from webhooks import settings_views as views

urlpatterns = [
    path("replies/", views.saved_replies_page, name="saved-replies"),
    path("replies/<int:reply_id>/", views.saved_reply_edit, name="saved-reply-edit"),
    path("replies/<int:reply_id>/delete/", views.saved_reply_remove, name="saved-reply-delete"),
    path("templates/", views.templates_page, name="whatsapp-templates"),
    path("templates/fetch/", views.templates_fetch_view, name="whatsapp-templates-fetch"),
    path("templates/account/", views.waba_set_view, name="whatsapp-account"),
    path("templates/<int:template_id>/", views.template_edit, name="whatsapp-template-edit"),
    path("templates/<int:template_id>/delete/", views.template_remove, name="whatsapp-template-delete"),
]
