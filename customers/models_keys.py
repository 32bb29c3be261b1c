"""A shop's API keys (the REST API's credentials), kept apart from customers/models.py for its size.

Only a SHA-256 of the key is stored: keys are 32 random bytes, so a fast hash is enough (nothing to
brute-force), and a lookup by hash is one indexed query. The prefix is what the owner sees afterwards.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        # Ordered: each includes the one before (see SCOPE_RANK).
        READ = "read", _("read")
        WRITE = "write", _("read and write")
        OWNER = "owner", _("owner (erase, export, merge, settings, webhooks)")

    shop = models.ForeignKey(
        "customers.Shop", verbose_name=_("shop"), on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(verbose_name=_("name"), max_length=100)
    scope = models.CharField(verbose_name=_("scope"), max_length=8, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(verbose_name=_("key starts with"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(verbose_name=_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(verbose_name=_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


SCOPE_RANK = {ApiKey.Scope.READ: 0, ApiKey.Scope.WRITE: 1, ApiKey.Scope.OWNER: 2}
