"""What every dashboard page's navigation shows."""

from customers.inbox import inbox_count


def inbox(request) -> dict:
    """The number of customers waiting for a person in the current shop, for the navigation (one count
    from a partial index of the few who wait). Pages outside the dashboard have no shop and no count."""
    shop = getattr(request, "shop", None)
    if shop is None:
        return {}
    return {"inbox_count": inbox_count(shop)}
