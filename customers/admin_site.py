"""The back office's admin site: open to superusers and to members of a shop, nobody else."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class CoccinelleAdminSite(admin.AdminSite):
    site_header = "Coccinelle"
    site_title = "Coccinelle"
    index_title = "Back office"

    def has_permission(self, request):
        # is_staff alone is not enough: an account reaches the back office through a shop membership.
        from customers.models import Membership  # this module loads before the models are ready

        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return user.is_superuser or Membership.objects.filter(user=user).exists()


class CoccinelleAdminConfig(AdminConfig):
    default_site = "customers.admin_site.CoccinelleAdminSite"
