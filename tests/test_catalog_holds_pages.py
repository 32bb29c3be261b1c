"""The Holds pages: the list at /dashboard/holds/ and the panel on the customer page, for owners and staff;
extend is one POST, convert and release ask first; another shop's hold is a 404."""

import pytest
from django.urls import reverse

from catalog.holds import hold_create
from catalog.models import Hold
from tests.test_catalog import make_variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def hold(shop, make_customer):
    return hold_create(customer=make_customer(shop, first_name="Léa"), variant=make_variant(shop, stock=1))


@pytest.mark.parametrize("person", ["owner", "staff"])
def test_the_list_shows_the_shops_holds_with_their_actions(
    client, request, person, hold, other_shop, make_customer
):
    theirs = hold_create(customer=make_customer(other_shop), variant=make_variant(other_shop, "OTHER-1"))
    client.force_login(request.getfixturevalue(person))
    page = client.get(reverse("holds"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Léa" in html and "Robe bleue" in html and f"hold-{theirs.pk}" not in html
    assert reverse("hold-extend", args=[hold.pk]) in html
    assert 'aria-current="page"' in html and reverse("holds") in html  # in the navigation


def test_extend_then_convert_after_confirmation(client, owner, hold):
    client.force_login(owner)
    before = hold.expires_at
    assert client.post(reverse("hold-extend", args=[hold.pk])).status_code == 302
    hold.refresh_from_db()
    assert (hold.expires_at - before).total_seconds() >= 24 * 3600 - 5
    asked = client.get(reverse("hold-convert", args=[hold.pk]))
    assert asked.status_code == 200 and asked.context["kind"] == "convert"
    hold.refresh_from_db()
    assert hold.state == Hold.State.ACTIVE  # asking changes nothing
    back = f"/dashboard/customers/{hold.customer_id}/"
    done = client.post(reverse("hold-convert", args=[hold.pk]), {"next": back})
    assert done.status_code == 302 and done["Location"] == back
    hold.refresh_from_db()
    assert hold.state == Hold.State.CONVERTED and hold.order.reference == f"HOLD-{hold.pk}"


def test_release_asks_then_releases_and_never_redirects_off_site(client, staff, hold):
    client.force_login(staff)
    assert client.get(reverse("hold-release", args=[hold.pk])).context["kind"] == "release"
    done = client.post(reverse("hold-release", args=[hold.pk]), {"next": "https://evil.example/"})
    assert done["Location"] == reverse("holds")
    hold.refresh_from_db()
    assert hold.state == Hold.State.RELEASED
    again = client.post(reverse("hold-release", args=[hold.pk]), follow=True)
    assert [m.level_tag for m in again.context["messages"]][-1] == "error"  # no longer active, said so


def test_another_shops_hold_is_a_404(client, other_owner, hold):
    client.force_login(other_owner)
    for name in ("hold-extend", "hold-release", "hold-convert"):
        assert client.post(reverse(name, args=[hold.pk])).status_code == 404
    hold.refresh_from_db()
    assert hold.state == Hold.State.ACTIVE


def test_the_customer_page_shows_their_holds(client, staff, hold):
    client.force_login(staff)
    page = client.get(reverse("dashboard:customer-detail", args=[hold.customer_id]))
    html = page.content.decode()
    assert 'id="holds-title"' in html and "Robe bleue" in html
    assert reverse("hold-release", args=[hold.pk]) in html and "csrfmiddlewaretoken" in html
