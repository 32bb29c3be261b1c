"""The Hours and facts page: owners type each day's hours as they write them, add holidays, fill in facts
and a signature; what they save is what the automatic replies use. Staff and other shops cannot."""

from datetime import date, time

from customers.models import Shop
from shopinfo.hours import TimeRange
from shopinfo.models import HoursException, ShopProfile
from shopinfo.selectors import map_link, shop_facts, shop_hours, shop_profile

PAGE = "/dashboard/shop/info/"
EXCEPTIONS = "/dashboard/shop/info/exceptions/"


FACTS = ("delivery", "payment", "services", "returns", "parking")
OTHER_LANGUAGES = ("en", "es", "it", "de", "pt")  # the fixture shop writes French


def _form(**changes):
    """Every field of the page's form, as a browser posts it, with `changes`."""
    data = {f"day_{day}": "" for day in range(7)}
    data.update({"hours_note": "", "signature": "", "map_url": ""})
    data.update({fact: "" for fact in FACTS})
    data.update({f"{fact}_{lang}": "" for fact in FACTS for lang in OTHER_LANGUAGES})
    data.update(changes)
    return data


def _error_codes(response, form="form"):
    return {
        name: [e.code for e in errors] for name, errors in response.context[form].errors.as_data().items()
    }


def test_owner_saves_a_week_typed_as_people_write_it(client, owner, shop):
    client.force_login(owner)
    response = client.post(
        PAGE,
        _form(
            day_1="10h-19h", day_2="10:00-19:00", day_5="10h-13h, 14h-19h", day_6="14h - 18h", day_0="fermé"
        ),
    )
    assert response.status_code == 302
    hours = shop_hours(shop)
    assert hours.weekly[0] == ()  # Monday: closed
    assert hours.weekly[1] == (TimeRange(time(10), time(19)),)
    assert hours.weekly[3] == ()  # Thursday left empty: closed
    assert hours.weekly[5] == (TimeRange(time(10), time(13)), TimeRange(time(14), time(19)))
    page = client.get(PAGE).content.decode()
    # Read back in the canonical form, so that the owner sees what was understood.
    assert 'value="10:00-13:00, 14:00-19:00"' in page


def test_hours_that_cannot_be_read_are_refused_with_the_day_kept(client, owner, shop):
    client.force_login(owner)
    response = client.post(PAGE, _form(day_1="from ten to seven-ish", day_2="10h-19h"))
    assert response.status_code == 400
    assert _error_codes(response) == {"day_1": ["hours"]}
    assert 'value="from ten to seven-ish"' in response.content.decode()  # what was typed stays
    assert not ShopProfile.objects.filter(shop=shop).exists()


def test_an_empty_week_means_no_hours_given(client, owner, shop):
    client.force_login(owner)
    assert client.post(PAGE, _form(signature="Lou")).status_code == 302
    assert shop_hours(shop) is None
    assert shop_profile(shop).signature == "Lou"


def test_facts_with_versions_in_other_languages(client, owner, shop):
    client.force_login(owner)
    response = client.post(
        PAGE,
        _form(
            delivery="Livraison en 48 h. ",
            delivery_en="Delivery in 48 h.",
            delivery_es="",
            parking="Parking des Cordeliers",
        ),
    )
    assert response.status_code == 302
    assert shop_facts(shop_profile(shop)) == {
        "delivery": {"": "Livraison en 48 h.", "en": "Delivery in 48 h."},
        "parking": {"": "Parking des Cordeliers"},
    }
    # The shop's own language has no second box: its version is the main one.
    assert "delivery_fr" not in client.get(PAGE).content.decode()


def test_the_hours_note_is_the_shops_free_text_and_the_map_link_defaults_to_a_search(client, owner, shop):
    shop.address = "12 rue des Lilas, 69002 Lyon"
    shop.save()
    client.force_login(owner)
    client.post(PAGE, _form(hours_note="Ouvert les dimanches de décembre."))
    shop.refresh_from_db()
    assert shop.opening_hours == "Ouvert les dimanches de décembre."
    assert map_link(shop, shop_profile(shop).map_url) == (
        "https://www.google.com/maps/search/?api=1&query=12+rue+des+Lilas%2C+69002+Lyon"
    )
    client.post(PAGE, _form(map_url="maps.app.goo.gl/abc"))
    shop = Shop.objects.get(pk=shop.pk)
    assert map_link(shop, shop_profile(shop).map_url) == "https://maps.app.goo.gl/abc"


def test_owner_adds_and_deletes_a_holiday(client, owner, shop):
    client.force_login(owner)
    response = client.post(
        EXCEPTIONS, {"first_day": "2027-12-24", "last_day": "", "ranges": "10h-17h", "label": "Veille"}
    )
    assert response.status_code == 302
    client.post(
        EXCEPTIONS, {"first_day": "2027-12-25", "last_day": "2027-12-26", "ranges": "", "label": "Noël"}
    )
    hours = shop_hours(shop)
    assert [(e.first_day, e.last_day, e.ranges, e.label) for e in hours.exceptions] == [
        (date(2027, 12, 24), date(2027, 12, 24), (TimeRange(time(10), time(17)),), "Veille"),
        (date(2027, 12, 25), date(2027, 12, 26), (), "Noël"),
    ]
    page = client.get(PAGE).content.decode()
    assert "Noël" in page and "10:00-17:00" in page
    christmas = HoursException.objects.get(label="Noël")
    assert client.post(f"{EXCEPTIONS}{christmas.pk}/delete/").status_code == 302
    assert not HoursException.objects.filter(pk=christmas.pk).exists()


def test_an_exception_ending_before_it_starts_is_refused(client, owner, shop):
    client.force_login(owner)
    response = client.post(EXCEPTIONS, {"first_day": "2027-12-26", "last_day": "2027-12-24", "ranges": ""})
    assert response.status_code == 400
    assert list(_error_codes(response, "exception_form")) == ["last_day"]
    assert not HoursException.objects.exists()


def test_an_exception_far_in_time_or_over_another_is_refused(client, owner, shop):
    client.force_login(owner)
    for first, last in (("0001-01-01", ""), ("2026-12-30", "9999-12-31")):
        response = client.post(EXCEPTIONS, {"first_day": first, "last_day": last, "ranges": ""})
        assert response.status_code == 400 and list(_error_codes(response, "exception_form")) == ["first_day"]
    assert (
        client.post(
            EXCEPTIONS, {"first_day": "2027-12-24", "last_day": "2027-12-26", "ranges": ""}
        ).status_code
        == 302
    )
    # Which of two overlapping exceptions wins would be a guess: the second one is refused.
    response = client.post(EXCEPTIONS, {"first_day": "2027-12-26", "ranges": "10h-12h"})
    assert response.status_code == 400 and list(_error_codes(response, "exception_form")) == ["first_day"]
    assert HoursException.objects.count() == 1


def test_a_post_missing_the_forms_fields_changes_nothing(client, owner, shop):
    ShopProfile.objects.create(shop=shop, signature="Lou", delivery="48 h")
    client.force_login(owner)
    assert client.post(PAGE, {"day_1": "10h-19h"}).status_code == 400
    profile = ShopProfile.objects.get(shop=shop)
    assert (profile.signature, profile.delivery) == ("Lou", "48 h")


def test_staff_cannot_open_or_change_the_page(client, staff, shop):
    client.force_login(staff)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, _form(signature="Hacked")).status_code == 403
    assert client.post(EXCEPTIONS, {"first_day": "2027-12-25", "ranges": ""}).status_code == 403
    assert not ShopProfile.objects.exists() and not HoursException.objects.exists()


def test_another_shops_owner_cannot_delete_an_exception(client, other_owner, shop):
    mine = HoursException.objects.create(
        shop=shop, first_day=date(2027, 1, 1), last_day=date(2027, 1, 1), label="Jour de l'an 2027"
    )
    client.force_login(other_owner)
    assert client.post(f"{EXCEPTIONS}{mine.pk}/delete/").status_code == 404
    assert HoursException.objects.filter(pk=mine.pk).exists()
    assert "Jour de l&#x27;an 2027" not in client.get(PAGE).content.decode()


def test_a_saved_signature_ends_every_automatic_reply(client, owner, shop):
    from webhooks.autoreply import shop_info
    from webhooks.replies import decide

    client.force_login(owner)
    client.post(PAGE, _form(signature="  Lou,   Boutique Coccinelle "))
    decision = decide("Merci beaucoup !", shop=shop_info(Shop.objects.get(pk=shop.pk)))
    assert decision.text.endswith("!\nLou, Boutique Coccinelle")
    client.post(PAGE, _form(signature=""))
    decision = decide("Merci beaucoup !", shop=shop_info(Shop.objects.get(pk=shop.pk)))
    assert "\n" not in decision.text and shop.name not in decision.text


def test_a_version_the_form_does_not_show_survives_a_save(client, owner, shop):
    # Written when the shop's language was English: the French box is not shown now that it is French.
    ShopProfile.objects.create(shop=shop, translations={"delivery": {"fr": "48 h en France", "en": "old"}})
    client.force_login(owner)
    assert client.post(PAGE, _form(delivery="48 h")).status_code == 302
    assert ShopProfile.objects.get(shop=shop).translations == {"delivery": {"fr": "48 h en France"}}
