"""Serving the files customers sent (webhooks.media) to the shop's own people, and asking for a failed
download again. Anyone else, including another shop's owner, gets a 404: not even the file's existence
is told."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from customers.access import dashboard_view
from webhooks.media import is_inline, media_retry
from webhooks.models import MediaFile


def _shop_media_or_404(request, media_file_id) -> MediaFile:
    return get_object_or_404(
        MediaFile.objects.select_related("interaction"),
        pk=media_file_id,
        interaction__customer__shop=request.shop,
    )


@require_GET
@dashboard_view
def media_serve(request, media_file_id):
    media_file = _shop_media_or_404(request, media_file_id)
    if media_file.state != MediaFile.State.DOWNLOADED or not media_file.file:
        raise Http404("not downloaded")
    try:
        handle = media_file.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("file missing from storage") from exc
    # The stored type (checked against the allowed list when downloaded); images, audio, video and PDF
    # open in the browser, everything else downloads. nosniff: the browser may not guess another type.
    response = FileResponse(
        handle,
        content_type=media_file.content_type or "application/octet-stream",
        as_attachment=not is_inline(media_file.content_type),
        filename=media_file.filename or media_file.file.name.rsplit("/", 1)[-1],
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@dashboard_view
def media_retry_view(request, media_file_id):
    media_file = _shop_media_or_404(request, media_file_id)
    if media_file.interaction.deleted_at:
        raise Http404("the customer deleted this message")  # the page offers no retry there either
    if media_retry(media_file):
        messages.success(request, _("Downloading the file again."))
    customer_id = media_file.interaction.customer_id
    return redirect(f"{reverse('dashboard:customer-detail', args=[customer_id])}?tab=conversation")
