"""The back office. Every admin here is tenant-scoped by ShopScopedAdmin: a non-superuser sees and
changes only the rows of their own shops, and what they may do comes from their Membership role in the
shop of each row, not from Django's model permissions. Business logic lives in services; the admin only
calls it.

- base.py: roles and permissions per shop, the action check, changelists that never answer a 500;
- forms.py: the model forms; actions.py: the customer list's bulk actions;
- customers.py, records.py (messages, notes, orders, tags), shops.py (shops, members, audit trail),
  keys.py (API keys: read-only, revoke).

Importing this package registers every admin (Django's autodiscovery does it at start-up).
"""

from customers.admin.base import (
    ALL,
    EDIT,
    OWNER,
    READ,
    STAFF,
    RolePermissions,
    ScopedInline,
    ShopScopedAdmin,
    pretty_json,
    user_roles,
)
from customers.admin.customers import CustomerAdmin
from customers.admin.keys import ApiKeyAdmin
from customers.admin.records import InteractionAdmin, NoteAdmin, OrderAdmin, TagAdmin
from customers.admin.shops import AuditEntryAdmin, MembershipAdmin, ShopAdmin

__all__ = [
    "ALL",
    "EDIT",
    "OWNER",
    "READ",
    "STAFF",
    "ApiKeyAdmin",
    "AuditEntryAdmin",
    "CustomerAdmin",
    "InteractionAdmin",
    "MembershipAdmin",
    "NoteAdmin",
    "OrderAdmin",
    "RolePermissions",
    "ScopedInline",
    "ShopAdmin",
    "ShopScopedAdmin",
    "TagAdmin",
    "pretty_json",
    "user_roles",
]
