"""Media a customer sends (photos, voice notes, videos, documents, vCards): kept so that the shop can
open them later, whatever the provider's own URL lifetime (Meta: the id lives 7 days, its URL 5 minutes).

The pipeline calls `media_attach` right after recording an inbound message: one MediaFile row per file,
and a download task enqueued after the commit. The task (`media_download`) fetches the bytes through the
provider module, checks size, type and Meta's sha256, and saves them in Django's default storage (local
files under MEDIA_ROOT, never served by the web server or whitenoise: only webhooks.media_views serves
them, to the shop's own people). Transient failures are tried again with backoff, up to
MEDIA_MAX_ATTEMPTS; permanent ones stay failed with their reason. Each Interaction.media entry carries
what the timeline shows (state, error, download_url), so the page needs no query per file.
"""

import logging
import mimetypes
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from coccinelle.http import ExternalServiceError
from customers.models import Interaction
from webhooks.inbound import Media
from webhooks.models import MediaFile
from webhooks.providers import meta, twilio
from webhooks.providers.download import MediaRefused, bare_type, sha256_hex
from webhooks.providers.meta_content import MEDIA_URL_PREFIX

logger = logging.getLogger(__name__)

# What is kept: the types WhatsApp and MMS carry for photos, voice notes, videos, documents and
# contact cards. Anything else (executables, HTML, SVG, archives, unknown octet streams) is refused
# and shown as such: the shop's people would open these files, so none that a browser would run.
ALLOWED_TYPES = {
    "image/jpeg", "image/png", "image/webp", "image/gif",
    "audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg", "audio/opus", "audio/wav",
    "audio/x-wav", "audio/3gpp",
    "video/mp4", "video/3gpp", "video/quicktime", "video/webm",
    "application/pdf", "text/plain", "text/csv",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "text/vcard", "text/x-vcard", "text/directory",
}  # fmt: skip
# Shown in the page (inline); every other kept type is a download (Content-Disposition: attachment).
INLINE_PREFIXES = ("image/", "audio/", "video/")
INLINE_TYPES = {"application/pdf"}
# A download that stopped without saying (a worker killed mid-way) is picked up again after this.
LEASE = timedelta(minutes=10)


def media_attach(interaction: Interaction, media: tuple[Media, ...]) -> list[MediaFile]:
    """Record the files of a just-recorded inbound interaction and enqueue their download after the
    commit. Called once per interaction (a replayed message is not recorded again)."""
    if not media:
        return []
    files = MediaFile.objects.bulk_create(
        [
            MediaFile(
                interaction=interaction,
                position=position,
                provider=interaction.provider,
                source=_source(item)[:1000],
                content_type=bare_type(item.content_type)[:255],
                filename=item.filename[:255],
                sha256=sha256_hex(item.sha256),
            )
            for position, item in enumerate(media)
        ]
    )
    if any(f.pk is None for f in files):  # backends that give no ids back from a bulk insert
        files = list(MediaFile.objects.filter(interaction=interaction).order_by("position"))
    items = list(interaction.media or [])
    for media_file in files:
        if media_file.position < len(items) and isinstance(items[media_file.position], dict):
            items[media_file.position] = {**items[media_file.position], **_shown(media_file)}
    interaction.media = items
    Interaction.objects.filter(pk=interaction.pk).update(media=items)
    for media_file in files:
        _enqueue_after_commit(media_file.pk, media_file.attempts)
    return files


def _source(item: Media) -> str:
    if item.media_id:
        return item.media_id
    if item.url.startswith(MEDIA_URL_PREFIX):
        return item.url[len(MEDIA_URL_PREFIX) :]
    return item.url


def media_download(media_file_id: int, *, attempt: int | None = None) -> tuple[str, int]:
    """One attempt at downloading a file. Returns (outcome, seconds): "retry" with the delay before
    the next attempt; otherwise "downloaded", "failed", or "skipped" (gone, done, or another worker
    holds it). `attempt` is the attempt count the caller saw: a stale call does nothing."""
    media_file = MediaFile.objects.select_related("interaction__customer").filter(pk=media_file_id).first()
    if media_file is None or media_file.state != MediaFile.State.PENDING:
        return "skipped", 0
    if attempt is not None and media_file.attempts != attempt:
        return "skipped", 0
    # The attempt counter is the lock: whoever moves it from n to n+1 does attempt n+1.
    claimed = MediaFile.objects.filter(
        pk=media_file.pk, state=MediaFile.State.PENDING, attempts=media_file.attempts
    ).update(attempts=F("attempts") + 1, next_attempt_at=timezone.now() + LEASE)
    if not claimed:
        return "skipped", 0
    media_file.attempts += 1
    try:
        downloaded = _fetch(media_file)
    except MediaRefused as exc:
        return _failed(media_file, str(exc)), 0
    except ExternalServiceError as exc:
        if exc.permanent or media_file.attempts >= settings.MEDIA_MAX_ATTEMPTS:
            return _failed(media_file, str(exc)), 0
        return "retry", _retry_later(media_file, str(exc))
    try:
        problem = _refusal(media_file, downloaded)
        if problem:
            return _failed(media_file, problem), 0
        _store(media_file, downloaded)
    finally:
        downloaded.file.close()
    return "downloaded", 0


def _fetch(media_file: MediaFile):
    limit = settings.MEDIA_MAX_BYTES
    if media_file.provider == meta.PROVIDER:
        if not settings.WHATSAPP_ACCESS_TOKEN:
            raise MediaRefused("WHATSAPP_ACCESS_TOKEN is not set: WhatsApp media cannot be downloaded")
        return meta.media_fetch(
            media_id=media_file.source,
            access_token=settings.WHATSAPP_ACCESS_TOKEN,
            max_bytes=limit,
            graph_base=settings.WHATSAPP_GRAPH_BASE,
            graph_version=settings.WHATSAPP_GRAPH_VERSION,
        )
    if media_file.provider == twilio.PROVIDER:
        # Without credentials still try: media URLs are public unless the account enforces Basic auth.
        return twilio.media_fetch(
            url=media_file.source,
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            max_bytes=limit,
            api_base=settings.TWILIO_API_BASE,
        )
    raise MediaRefused(f"no media download for provider {media_file.provider!r}")


def _refusal(media_file: MediaFile, downloaded) -> str:
    """Why the bytes must not be kept, or ""."""
    kind = downloaded.content_type or media_file.content_type
    if kind not in ALLOWED_TYPES:
        return f"file type not accepted: {kind or 'unknown'}"
    stated = {media_file.sha256, sha256_hex(downloaded.stated_sha256)} - {""}
    if any(value != downloaded.sha256 for value in stated):
        return "checksum (sha256) does not match what WhatsApp announced"
    return ""


def _store(media_file: MediaFile, downloaded) -> None:
    kind = downloaded.content_type or media_file.content_type
    extension = mimetypes.guess_extension(kind) or ""
    customer = media_file.interaction.customer
    # Never the sender's file name in the path: it is kept in `filename`, for the download only.
    token = secrets.token_hex(8)
    name = f"{customer.shop_id}/{media_file.interaction_id}-{media_file.position}-{token}{extension}"
    media_file.file.save(name, File(downloaded.file), save=False)
    media_file.content_type = kind
    media_file.size = downloaded.size
    media_file.sha256 = downloaded.sha256
    media_file.state = MediaFile.State.DOWNLOADED
    media_file.error = ""
    media_file.next_attempt_at = None
    media_file.downloaded_at = timezone.now()
    try:
        media_file.save()
        _show(media_file)
    except Exception:
        media_file.file.delete(save=False)  # no row points at these bytes: do not leave them behind
        raise


def _failed(media_file: MediaFile, reason: str) -> str:
    logger.warning("media %s of interaction %s: %s", media_file.pk, media_file.interaction_id, reason)
    media_file.state, media_file.error = MediaFile.State.FAILED, reason[:500]
    media_file.next_attempt_at = None
    media_file.save(update_fields=["state", "error", "next_attempt_at"])
    _show(media_file)
    return "failed"


def _retry_later(media_file: MediaFile, reason: str) -> int:
    base = settings.MEDIA_RETRY_BASE_SECONDS
    delay = min(base * 2 ** (media_file.attempts - 1), 30 * 60)
    attempt = media_file.attempts
    logger.info("media %s attempt %s failed, next in %ss: %s", media_file.pk, attempt, delay, reason)
    media_file.error, media_file.next_attempt_at = reason[:500], timezone.now() + timedelta(seconds=delay)
    media_file.save(update_fields=["error", "next_attempt_at"])
    _show(media_file)
    return delay


def media_retry(media_file: MediaFile) -> bool:
    """A person asks for a failed download again: a fresh round of attempts."""
    updated = MediaFile.objects.filter(pk=media_file.pk, state=MediaFile.State.FAILED).update(
        state=MediaFile.State.PENDING, attempts=0, error="", next_attempt_at=None
    )
    if updated:
        media_file.refresh_from_db()
        _show(media_file)
        _enqueue_after_commit(media_file.pk, 0)
    return bool(updated)


def media_sweep(limit: int = 200) -> int:
    """Celery beat: downloads whose task never ran (broker down) or whose worker died mid-way."""
    now = timezone.now()
    due = MediaFile.objects.filter(state=MediaFile.State.PENDING).filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, created_at__lte=now - timedelta(minutes=2))
    )
    rows = list(due.order_by("created_at").values_list("pk", "attempts")[:limit])
    for pk, attempts in rows:
        _enqueue(pk, attempts)
    return len(rows)


def _shown(media_file: MediaFile) -> dict:
    """What the timeline reads in the Interaction.media entry of this file."""
    entry = {"media_file_id": media_file.pk, "state": media_file.state, "error": media_file.error}
    if media_file.state == MediaFile.State.DOWNLOADED:
        entry.update(
            download_url=reverse("media-download", args=[media_file.pk]),
            content_type=media_file.content_type,
            size=media_file.size,
            inline=is_inline(media_file.content_type),
        )
    return entry


def _show(media_file: MediaFile) -> None:
    """Copy the file's state into its interaction's media entry (locked: a message's files are
    downloaded by separate tasks, each rewriting the one JSON list)."""
    with transaction.atomic():
        interaction = Interaction.objects.select_for_update().filter(pk=media_file.interaction_id).first()
        if interaction is None:
            return
        items = list(interaction.media or [])
        if media_file.position >= len(items) or not isinstance(items[media_file.position], dict):
            return
        entry = {k: v for k, v in items[media_file.position].items() if k not in ("download_url", "inline")}
        items[media_file.position] = {**entry, **_shown(media_file)}
        Interaction.objects.filter(pk=interaction.pk).update(media=items)


def is_inline(content_type: str) -> bool:
    return content_type.startswith(INLINE_PREFIXES) or content_type in INLINE_TYPES


def _enqueue_after_commit(media_file_id: int, attempts: int) -> None:
    transaction.on_commit(lambda: _enqueue(media_file_id, attempts))


def _enqueue(media_file_id: int, attempts: int) -> None:
    from webhooks.tasks import download_media  # tasks import this module

    download_media.delay(media_file_id, attempts)
