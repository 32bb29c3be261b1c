"""`{% holds_panel customer %}`: the customer page's Holds section, provided by catalog so that the page
(in customers) needs no import of it."""

from django import template

from catalog.selectors import shop_holds, shop_stock_alerts

register = template.Library()
RECENT = 5  # ended holds shown under the active ones


@register.inclusion_tag("catalog/_holds_panel.html", takes_context=True)
def holds_panel(context, customer):
    holds = list(shop_holds(shop=customer.shop, customer=customer)[: RECENT + 10])
    active = [h for h in holds if h.state == "active"]
    ended = [h for h in holds if h.state != "active"][:RECENT]
    # The buttons post forms: the page's request and CSRF token go with them.
    waiting = list(shop_stock_alerts(shop=customer.shop, customer=customer)[:RECENT])
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "holds": active + ended,
        "waiting": waiting,
    }
