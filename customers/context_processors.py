"""What every dashboard page's navigation shows."""

from customers.inbox import inbox_count


def inbox(request) -> dict:
    """The number of customers waiting for a person in the current shop, for the navigation (one count
    from a partial index of the few who wait). Counted once per request: the live updates render many
    fragments with the request's context. Pages outside the dashboard have no shop and no count."""
    shop = getattr(request, "shop", None)
    if shop is None:
        return {}
    if getattr(request, "_inbox_count", None) is None:
        request._inbox_count = inbox_count(shop)
    return {"inbox_count": request._inbox_count}
