"""Issue 13's rough edges, each pinned by what a French shop's owner sees on the pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.figures import figures_refresh
from customers.models import Interaction

LIST = "/dashboard/customers/"


@pytest.fixture
def as_owner(client, owner):
    client.force_login(owner)
    return client


def message(customer, direction, body, at):
    return Interaction.objects.create(
        customer=customer, channel="sms", direction=direction, body=body, status="received", occurred_at=at
    )


def written_then_answered(customer):
    """The customer wrote, then the shop answered: the answer is the newest message."""
    now = timezone.now()
    message(customer, "inbound", "Avez-vous la robe en 38 ?", now - timedelta(minutes=5))
    message(customer, "outbound", "Oui, nous vous la gardons.", now)
    figures_refresh([customer.pk])


# --- what the customer wrote, not the shop's reply ------------------------------------------------------


def test_the_list_and_the_overview_show_what_the_customer_wrote(as_owner, shop, make_customer):
    customer = make_customer(shop, first_name="Julie")
    written_then_answered(customer)
    row = as_owner.get(LIST).content.decode()
    assert "Avez-vous la robe en 38" in row and "nous vous la gardons" not in row
    page = as_owner.get(f"{LIST}{customer.pk}/").content.decode()
    assert "Avez-vous la robe en 38" in page and "nous vous la gardons" not in page


def test_live_updates_carry_the_stat_cards(as_owner, shop, make_customer):
    make_customer(shop, first_name="Julie", needs_attention=True)
    data = as_owner.get(f"{LIST}updates/", {"after": 0}).json()
    assert data["stats"]["total"] == 1 and data["stats"]["needs_attention"] == 1
    page = as_owner.get(LIST).content.decode()
    assert 'data-stat="total"' in page and 'data-stat="needs_attention"' in page


def test_dashboard_root_leads_to_the_customer_list(as_owner):
    response = as_owner.get("/dashboard/")
    assert response.status_code == 302 and response.url == LIST
