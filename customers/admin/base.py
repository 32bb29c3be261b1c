"""What every admin of the back office stands on: permissions from Membership roles, decided in the shop
of each row, and changelists that answer bad input without a 500.

A user may be owner of one shop and staff of another. Django asks `has_<perm>_permission(request)`
without a row to decide what to offer (a menu entry, an action, an add button); here that means "in at
least one of the user's shops". Whatever touches rows (a change page, a delete, an action, an inline)
asks again in the shop of each row, so a role held in one shop never acts in another.
"""

import functools
import json
import logging

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import model_format_dict
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, OperationalError, transaction
from django.http import Http404
from django.utils.html import format_html

from customers.models import Customer, Membership, Shop, Tag
from customers.selectors import cap_search, shops_for_user

logger = logging.getLogger(__name__)

OWNER, STAFF = Membership.Role.OWNER, Membership.Role.STAFF
READ = frozenset({"view"})
EDIT = frozenset({"view", "add", "change"})
ALL = frozenset({"view", "add", "change", "delete"})
# Django offers an action that declares no permissions to anyone who sees the list; an action changes
# rows, so here it needs the change permission, in the shop of every row it is given.
UNDECLARED_ACTION_PERMISSIONS = ("change",)


def user_roles(request) -> dict:
    """{shop_id: role} for the signed-in user, read once per request."""
    roles = getattr(request, "_coccinelle_roles", None)
    if roles is None:
        user = request.user
        roles = {}
        if user.is_authenticated and user.is_active:
            roles = dict(Membership.objects.filter(user=user).values_list("shop_id", "role"))
        request._coccinelle_roles = roles
    return roles


def pretty_json(value):
    return format_html(
        '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
        json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str),
    )


class RolePermissions:
    """Permissions from Membership roles. `role_permissions[role]` is what that role may do in its shop;
    superusers get `superuser_permissions`. Subclasses say how to find the shop of a row."""

    role_permissions = {OWNER: ALL, STAFF: EDIT}
    superuser_permissions = ALL
    _write_perm = "change"

    def role_allows(self, request, perm, shop_id=None) -> bool:
        """Whether the role allows `perm` in `shop_id`, or, without one, in at least one of the user's shops
        (only for what is offered; rows are always checked in their own shop)."""
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return perm in self.superuser_permissions
        roles = user_roles(request)
        shop_ids = roles.keys() if shop_id is None else [shop_id]
        return any(perm in self.role_permissions.get(roles.get(sid), ()) for sid in shop_ids)

    def allowed_in_shop(self, request, perm, shop_id) -> bool:
        """`perm` in this very shop; a row without a shop is for superusers only."""
        if shop_id is None:
            return request.user.is_superuser and perm in self.superuser_permissions
        return self.role_allows(request, perm, shop_id)

    def shops_where(self, request, perm):
        if request.user.is_superuser:
            return Shop.objects.all() if perm in self.superuser_permissions else Shop.objects.none()
        ids = [
            sid for sid, role in user_roles(request).items() if perm in self.role_permissions.get(role, ())
        ]
        return shops_for_user(request.user).filter(pk__in=ids)

    def scoped_choices(self, request, model, perm):
        """Foreign-key and many-to-many choices limited to the user's shops (None: leave Django's)."""
        shops = self.shops_where(request, perm)
        if model is Shop:
            return shops
        if model in (Customer, Tag):
            return model.objects.filter(shop__in=shops)
        if model is get_user_model():
            if request.user.is_superuser:
                return model.objects.all()
            return model.objects.filter(memberships__shop__in=shops).distinct()
        return None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = self.scoped_choices(request, db_field.related_model, self._write_perm)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        queryset = self.scoped_choices(request, db_field.related_model, self._write_perm)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class TextLimits:
    """`text_limits = {field: n}` gives a TextField's form field a maximum length (it has none of its own;
    the services refuse longer text too)."""

    text_limits = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.text_limits:
            kwargs["max_length"] = self.text_limits[db_field.name]
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class SafeChangeList(ChangeList):
    """A changelist on which a bad filter value means "ignore the filters" (Django's redirect to `?e=1`),
    never a 500.

    Django turns most bad values into IncorrectLookupParameters while building the query, but some fail
    later or otherwise: a date-hierarchy year too big for `datetime` (OverflowError), a `__year` lookup on
    any date field (its bounds are computed when the SQL is compiled, at the count), a value the database
    refuses (an invalid `__regex`, a number out of range).
    """

    def get_queryset(self, request, exclude_parameters=None):
        try:
            return super().get_queryset(request, exclude_parameters)
        except (OverflowError, ValueError) as exc:
            logger.info("admin %s: filters ignored: %s", self.opts.label, exc)
            raise IncorrectLookupParameters(exc) from exc

    def get_results(self, request):
        if not self._filtered():
            # An error on the plain list is a real fault (a database down): it stays a 500, with its trace.
            return super().get_results(request)
        try:
            # A savepoint, so that on PostgreSQL a refused value does not poison an enclosing transaction.
            with transaction.atomic():
                return super().get_results(request)
        except (OverflowError, ValueError, DataError, OperationalError) as exc:
            logger.info("admin %s: filters ignored: %s", self.opts.label, exc)
            raise IncorrectLookupParameters(exc) from exc

    def _filtered(self) -> bool:
        return bool(self.get_filters_params() or self.query)


class ShopScopedAdmin(RolePermissions, TextLimits, admin.ModelAdmin):
    """A ModelAdmin whose rows are those of the user's shops, reached through `shop_path`."""

    shop_path = "shop"  # "pk" for Shop itself, "customer__shop" for rows hanging off a customer

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        # The shops where the role may view this kind of row, not every shop the user belongs to.
        lookup = "pk__in" if self.shop_path == "pk" else f"{self.shop_path}__in"
        return queryset.filter(**{lookup: self.shops_where(request, "view")})

    def shop_id_of(self, obj):
        if self.shop_path == "pk":
            return obj.pk
        *path, last = self.shop_path.split("__")
        for part in path:
            obj = getattr(obj, part)
            if obj is None:
                return None
        return getattr(obj, f"{last}_id")

    def _allowed_on(self, request, perm, obj):
        if obj is None:
            return self.role_allows(request, perm)
        return self.allowed_in_shop(request, perm, self.shop_id_of(obj))

    def has_module_permission(self, request):
        return self.role_allows(request, "view")

    def has_view_permission(self, request, obj=None):
        return self._allowed_on(request, "view", obj)

    def has_add_permission(self, request):
        return self.role_allows(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._allowed_on(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed_on(request, "delete", obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such record in your shops.")
        return obj

    def save_model(self, request, obj, form, change):
        if not self._allowed_on(request, "change" if change else "add", obj):
            raise PermissionDenied("You cannot save a record into a shop you are not a member of.")
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if not change:
            self._check_added_inline_rows(request, form.instance, formsets)
        super().save_related(request, form, formsets, change)

    def _check_added_inline_rows(self, request, obj, formsets):
        """On an add page the inlines were offered before the row had a shop ("in any of the user's
        shops"); now that it has one, rows added through an inline need the add permission there."""
        inlines = {inline.model: inline for inline in self.get_inline_instances(request, obj)}
        for formset in formsets:
            if not any(f.has_changed() for f in formset.extra_forms):
                continue
            inline = inlines.get(formset.model)
            if inline is None or not inline.has_add_permission(request, obj):
                raise PermissionDenied("Your role in this shop does not allow adding these rows.")

    # --- actions ----------------------------------------------------------------------------------

    def response_action(self, request, queryset):
        # Django filters the list by the ticked ids as posted: one that is not an id was a 500.
        try:
            for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                self.opts.pk.to_python(pk)
        except ValidationError:
            self.message_user(request, "No action was run: the selection is not valid.", messages.ERROR)
            return None
        return super().response_action(request, queryset)

    def get_actions(self, request):
        """The actions the user may run in at least one shop, each checked on the rows it gets.

        Every action, Django's *delete selected* included, is wrapped: it runs only when the user's role
        allows it in the shop of every selected row (select-across too), and is otherwise refused as a
        whole, with a message. Doing part of a bulk change is harder to understand than doing none.
        """
        actions = {}
        for name, (func, _, description) in super().get_actions(request).items():
            perms = tuple(getattr(func, "allowed_permissions", ()) or UNDECLARED_ACTION_PERMISSIONS)
            if any(self.role_allows(request, perm) for perm in perms):
                label = description % model_format_dict(self.opts)
                actions[name] = (self._checked_per_shop(func, perms, label), name, description)
        return actions

    def _checked_per_shop(self, func, perms, label):
        @functools.wraps(func)
        def action(modeladmin, request, queryset):
            refused = self.shops_refusing(request, perms, queryset)
            if refused:
                self.message_user(
                    request,
                    f"Nothing was done: your role does not allow “{label}” in {', '.join(refused)}. "
                    "Untick the rows of that shop, or ask one of its owners.",
                    messages.ERROR,
                )
                return None
            return func(modeladmin, request, queryset)

        return action

    def shops_refusing(self, request, perms, queryset) -> list[str]:
        """Names of the shops of `queryset`'s rows where the user's role grants none of `perms`."""
        field = "pk" if self.shop_path == "pk" else self.shop_path
        shop_ids = set(queryset.order_by().values_list(field, flat=True).distinct())
        refused = {sid for sid in shop_ids if not any(self.allowed_in_shop(request, p, sid) for p in perms)}
        names = sorted(Shop.objects.filter(pk__in=refused - {None}).values_list("name", flat=True))
        return names + ["rows without a shop"] if None in refused else names

    # --- the list -----------------------------------------------------------------------------------

    def get_changelist(self, request, **kwargs):
        return SafeChangeList

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, cap_search(search_term))

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if self.shop_path == "shop" and (request.user.is_superuser or len(user_roles(request)) > 1):
            filters.append(("shop", admin.RelatedOnlyFieldListFilter))
        return filters

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        several = request.user.is_superuser or len(user_roles(request)) > 1
        if self.shop_path == "shop" and several and "shop" not in columns:
            columns.append("shop")
        return columns

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if self.shop_path == "shop" and "shop" not in initial:
            shops = list(self.shops_where(request, "add").values_list("pk", flat=True)[:2])
            if len(shops) == 1:
                initial["shop"] = shops[0]
        return initial


class ScopedInline(RolePermissions, TextLimits):
    """An inline whose permissions follow the role in the parent row's shop."""

    def _allowed_on(self, request, perm, parent):
        if parent is None or parent.pk is None:
            return self.role_allows(request, perm)  # an add page: checked again once saved (save_related)
        shop_id = parent.pk if isinstance(parent, Shop) else parent.shop_id
        return self.allowed_in_shop(request, perm, shop_id)

    def has_view_permission(self, request, obj=None):
        return self._allowed_on(request, "view", obj)

    def has_add_permission(self, request, obj=None):
        return self._allowed_on(request, "add", obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed_on(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed_on(request, "delete", obj)
