"""Who may see what on the dashboard pages: the signed-in user's current shop and role.

The current shop lives in the session and is checked against `shops_for_user` on every request, so a
membership removed a minute ago stops working at once. Views get `request.shop`, `request.role` and
`request.shops` (for the switcher) from the `dashboard_view` decorator; every query then filters by
`request.shop`. Used by the `customers` pages and by `webhooks.staff_views` (data flows one way).
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils import translation

from customers.models import Customer, Membership, Shop
from customers.selectors import role_in_shop, shops_for_user

SESSION_SHOP_KEY = "dashboard_shop_id"
OWNER = Membership.Role.OWNER


def dashboard_view(view=None, *, owner_only=False):
    """Decorate a view: sign-in required, current shop resolved, its language active.

    `owner_only` answers 403 to staff (export, erase, shop settings).
    """

    def decorate(func):
        @login_required
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            shops = list(shops_for_user(request.user).order_by("name", "pk"))
            if not shops:
                return render(request, "dashboard/no_shop.html", status=403)
            request.shops = shops
            request.shop = _current_shop(request, shops)
            request.role = role_in_shop(request.user, request.shop.pk)
            request.is_owner = request.role == OWNER
            _activate_language(request)
            if owner_only and not request.is_owner:
                raise PermissionDenied("Only the shop's owners can do this.")
            return func(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def _current_shop(request, shops):
    wanted = request.session.get(SESSION_SHOP_KEY)
    shop = next((s for s in shops if s.pk == wanted), shops[0])
    if shop.pk != wanted:
        request.session[SESSION_SHOP_KEY] = shop.pk
    return shop


def _activate_language(request) -> None:
    """The shop's language, unless the user picked one with the language switcher (Django's cookie)."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return  # LocaleMiddleware already activated the user's choice
    activate_shop_language(request, request.shop)


def shop_language(shop) -> str:
    """The language the shop's pages and e-mails speak: its own when the project has it, else English."""
    supported = {code for code, _ in settings.LANGUAGES}
    return shop.language if shop.language in supported else "en"


def activate_shop_language(request, shop) -> None:
    language = shop_language(shop)
    translation.activate(language)
    request.LANGUAGE_CODE = language


def admin_shop(request):
    """The shop whose language the back office speaks: the dashboard's current one, else the user's
    first; None for a superuser who belongs to no shop (the browser's language then)."""
    if not request.user.is_authenticated:
        return None
    shops = Shop.objects.filter(memberships__user=request.user).order_by("name", "pk")
    wanted = request.session.get(SESSION_SHOP_KEY)
    return (shops.filter(pk=wanted).first() if wanted else None) or shops.first()


def switch_shop(request, shop_id) -> bool:
    """Make `shop_id` the current shop if the user may see it."""
    if not shops_for_user(request.user).filter(pk=shop_id).exists():
        return False
    request.session[SESSION_SHOP_KEY] = int(shop_id)
    return True


def shop_customer_or_404(request, customer_id) -> Customer:
    """A customer of the current shop; any other id (another shop's, or none) is a 404."""
    return get_object_or_404(Customer.objects.select_related("shop"), pk=customer_id, shop=request.shop)
