"""/api/v1/customers/, its notes, export and merge, and /api/v1/tags/: filters, cursor pages, the edit
page's rules, 409s, scopes, and another shop's objects answering 404 everywhere."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import AuditEntry, Customer, Interaction, Note, Order, Tag
from customers.services import tags_get_or_create

pytestmark = pytest.mark.django_db
API = "/api/v1/customers/"


def url(customer, tail=""):
    return f"{API}{customer.pk}/{tail}"


@pytest.fixture
def julie(shop, make_customer):
    return make_customer(
        shop, first_name="Julie", last_name="Martin", phone="+33698765432", email="julie@ex.fr"
    )


@pytest.fixture
def stranger(other_shop, make_customer):
    """Shop B's customer: shop A's keys must never see or touch it."""
    customer = make_customer(other_shop, first_name="Bea", last_name="Other", phone="+32470123456")
    Note.objects.create(customer=customer, body="B's secret")
    return customer


# --- list and filters ---------------------------------------------------------------------------


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_shows_the_shops_customers_newest_first_in_the_webhooks_shape(
    shop, julie, stranger, make_customer, api_client
):
    second = make_customer(shop, first_name="Zoé")
    Order.objects.create(shop=shop, customer=julie, reference="A-1", amount="89.50")
    from customers.figures import figures_refresh

    figures_refresh([julie.pk])
    tags_get_or_create(shop=shop, names=["mariage"])
    julie.tags.add(Tag.objects.get(shop=shop, name="mariage"))
    response = api_client(shop, "read").get(API)
    assert ids(response) == [second.pk, julie.pk]  # shop B's customer is not there
    row = response.json()["results"][1]
    assert row["url"].endswith(f"{API}{julie.pk}/")
    assert row["tags"] == ["mariage"] and row["total_spent"] == "89.50" and row["orders_count"] == 1
    assert row["opted_out"] is False and row["phone"] == "+33698765432"
    expected = {"id", "first_name", "last_name", "phone", "email", "whatsapp_user_id", "language", "segment",
                "tags", "preferred_channel", "needs_attention", "opted_out", "orders_count", "total_spent",
                "created_at", "updated_at"}  # fmt: skip
    assert expected <= set(row)


def test_search_has_the_pages_semantics(shop, julie, make_customer, api_client):
    celine = make_customer(shop, first_name="Céline", last_name="Lefèvre", email="celine@shop.fr")
    client = api_client(shop, "read")
    assert ids(client.get(API, {"search": "06 98 76 54 32"})) == [julie.pk]  # a phone in any format
    assert ids(client.get(API, {"search": "celine lefevre"})) == [celine.pk]  # accents and order aside
    assert ids(client.get(API, {"search": "celine@shop.fr"})) == [celine.pk]
    assert ids(client.get(API, {"search": "nobody"})) == []


def test_filters_segment_tag_channel_attention_and_updated_since(shop, other_shop, make_customer, api_client):
    vip = make_customer(shop, segment="vip", preferred_channel="whatsapp", needs_attention=True)
    plain = make_customer(shop, preferred_channel="sms")
    (tag,) = tags_get_or_create(shop=shop, names=["fidélité"])
    plain.tags.add(tag)
    (b_tag,) = tags_get_or_create(shop=other_shop, names=["fidélité"])
    make_customer(other_shop).tags.add(b_tag)
    client = api_client(shop, "read")
    assert ids(client.get(API, {"segment": "vip"})) == [vip.pk]
    assert ids(client.get(API, {"tag": "fidélité"})) == [plain.pk]
    assert ids(client.get(API, {"tag": "unknown"})) == []
    assert ids(client.get(API, {"channel": "sms"})) == [plain.pk]
    assert ids(client.get(API, {"needs_attention": "true"})) == [vip.pk]
    assert ids(client.get(API, {"needs_attention": "false"})) == [plain.pk]
    Customer.objects.filter(pk=vip.pk).update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(client.get(API, {"updated_since": since})) == [plain.pk]


@pytest.mark.parametrize(
    "params",
    [{"updated_since": "yesterday"}, {"segment": "gold"}, {"needs_attention": "maybe"}, {"channel": "fax"}],
)
def test_bad_filter_values_are_a_400_naming_the_parameter(shop, api_client, params):
    response = api_client(shop, "read").get(API, params)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and set(response.json()["fields"]) == set(params)


def test_cursor_pages_walk_every_customer_once(shop, make_customer, api_client):
    made = [make_customer(shop).pk for _ in range(7)]
    client = api_client(shop, "read")
    seen, page = [], client.get(API, {"page_size": 3})
    while True:
        seen += ids(page)
        following = page.json()["next"]
        if not following:
            break
        assert "cursor=" in following and "page=" not in following
        page = client.get(following)
    assert seen == sorted(made, reverse=True)
    response = client.get(API, {"cursor": "garbage"})
    assert response.status_code == 400 and set(response.json()["fields"]) == {"cursor"}
    hand_made = "cD1hYmM="  # base64 of "p=abc": a position that is no id
    assert client.get(API, {"cursor": hand_made}).status_code == 400


# --- retrieve, create, update -------------------------------------------------------------------


def test_retrieve(shop, julie, api_client):
    body = api_client(shop, "read").get(url(julie)).json()
    assert body["id"] == julie.pk and body["name"] == "Julie Martin"


def test_create_reads_the_phone_with_the_shops_country(shop, api_client):
    response = api_client(shop, "write").post(
        API,
        {
            "first_name": " Léa ",
            "phone": "06 12 34 56 78",
            "tags": ["vip, fidèle", "mariage"],
            "segment": "vip",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "+33612345678" and body["first_name"] == "Léa"
    # A plain str: DRF's Hyperlink (a str subclass) made wsgiref's server answer a 500.
    assert response["Location"] == body["url"] and type(response.headers["Location"]) is str
    assert sorted(body["tags"]) == ["mariage", "vip, fidèle"]  # a list: a comma stays in its tag
    customer = Customer.objects.get(pk=body["id"])
    assert customer.shop == shop and customer.source == "api" and customer.name_source == "human"
    assert customer.segment == "vip" and customer.segment_manual  # pinned, like the pages' choice


def test_create_refuses_what_the_edit_page_refuses(shop, api_client):
    client = api_client(shop, "write")
    response = client.post(API, {"phone": "12"}, format="json")
    assert response.status_code == 400 and "phone" in response.json()["fields"]
    response = client.post(API, {}, format="json")  # no name and no way to reach them
    assert response.status_code == 400 and set(response.json()["fields"]) == {"non_field_errors"}
    response = client.post(API, {"first_name": "x", "shop": 3}, format="json")
    assert response.status_code == 201  # unknown fields are not read (the shop is the key's)
    assert Customer.objects.get(pk=response.json()["id"]).shop == shop


@pytest.mark.parametrize(
    "field, value",
    [("phone", "06 98 76 54 32"), ("email", "JULIE@EX.FR"), ("whatsapp_user_id", "wa.julie")],
)
def test_a_duplicate_identifier_is_a_409_with_the_existing_customers_api_url(
    shop, julie, api_client, field, value
):
    julie.whatsapp_user_id = "wa.julie"
    julie.save()
    client = api_client(shop, "write")
    response = client.post(API, {"first_name": "Twin", field: value}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict" and field in body["fields"]
    assert body["existing"] == f"http://testserver{API}{julie.pk}/"
    assert client.get(body["existing"]).json()["id"] == julie.pk
    assert Customer.objects.filter(shop=shop).count() == 1


def test_another_shops_customer_with_the_same_phone_is_no_conflict(shop, stranger, api_client):
    response = api_client(shop, "write").post(API, {"phone": "+32470123456"}, format="json")
    assert response.status_code == 201


def test_patch_changes_only_what_is_sent_with_the_edit_pages_rules(shop, julie, make_customer, api_client):
    other = make_customer(shop, email="taken@ex.fr")
    client = api_client(shop, "write")
    response = client.patch(url(julie), {"city": "Lyon", "phone": "0611223344"}, format="json")
    assert response.status_code == 200, response.content
    julie.refresh_from_db()
    assert (julie.city, julie.phone, julie.first_name, julie.email) == (
        "Lyon", "+33611223344", "Julie", "julie@ex.fr",
    )  # fmt: skip
    response = client.patch(url(julie), {"email": "Taken@ex.fr"}, format="json")
    assert response.status_code == 409 and response.json()["existing"].endswith(f"{API}{other.pk}/")
    response = client.patch(
        url(julie), {"email": None, "tags": ["a"], "first_name": "Juliette"}, format="json"
    )
    assert response.status_code == 200
    julie.refresh_from_db()
    assert julie.email is None and julie.name_source == "human"
    assert list(julie.tags.values_list("name", flat=True)) == ["a"]
    assert client.put(url(julie), {"first_name": "x"}, format="json").status_code == 405


def test_a_stored_value_the_form_would_refuse_does_not_block_a_patch_of_another_field(
    shop, julie, api_client
):
    Customer.objects.filter(pk=julie.pk).update(language="nl")  # imported; the form offers six languages
    client = api_client(shop, "write")
    response = client.patch(url(julie), {"city": "Gand"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["language"] == "nl" and response.json()["city"] == "Gand"
    response = client.patch(url(julie), {"language": "nl"}, format="json")
    assert response.status_code == 400 and set(response.json()["fields"]) == {"language"}


# --- erase, export, merge (owner scope) ---------------------------------------------------------


def test_erase_is_the_gdpr_erasure_and_needs_the_owner_scope(shop, julie, api_client):
    Order.objects.create(shop=shop, customer=julie, reference="A-9", amount="10")
    assert api_client(shop, "write").delete(url(julie)).status_code == 403
    assert Customer.objects.filter(pk=julie.pk).exists()
    assert api_client(shop, "owner").delete(url(julie)).status_code == 204
    assert not Customer.objects.filter(pk=julie.pk).exists()
    assert Order.objects.get(reference="A-9").customer is None  # kept, anonymous
    assert AuditEntry.objects.filter(shop=shop, action="erase").count() == 1


def test_export_is_the_gdpr_json_for_owners(shop, julie, api_client):
    Note.objects.create(customer=julie, body="likes silk")
    assert api_client(shop, "write").get(url(julie, "export/")).status_code == 403
    body = api_client(shop, "owner").get(url(julie, "export/")).json()
    assert body["profile"]["phone"] == "+33698765432" and body["notes"][0]["body"] == "likes silk"


def test_export_never_gives_the_providers_media_urls_nor_ids(shop, julie, api_client):
    """A Twilio medium's URL opens with the account's credentials and Meta's id fetches the bytes:
    the API describes files (as the messages list does), it never hands out the provider's handles."""
    Interaction.objects.create(
        customer=julie,
        channel="whatsapp",
        direction="inbound",
        body="",
        media=[
            {
                "url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
                "media_id": "1234567890",
                "content_type": "image/jpeg",
                "filename": "robe.jpg",
                "sha256": "",
            }
        ],
    )
    body = api_client(shop, "owner").get(url(julie, "export/")).json()
    (media,) = body["interactions"][0]["media"]
    assert media["content_type"] == "image/jpeg" and media["filename"] == "robe.jpg"
    assert "url" not in media and "media_id" not in media
    assert "twilio.com" not in str(body) and "1234567890" not in str(body)


@pytest.fixture
def twins(shop, julie, make_customer):
    other = make_customer(shop, first_name="Julie", last_name="Martin", phone="+33611111111", city="Lyon")
    Interaction.objects.create(customer=other, channel="sms", direction="inbound", body="hello")
    Note.objects.create(customer=other, body="from the twin")
    return julie, other


def test_merge_without_confirm_answers_the_admins_confirmation_data_and_changes_nothing(
    shop, twins, api_client
):
    keep, other = twins
    response = api_client(shop, "owner").post(url(keep, "merge/"), {"merge": [other.pk]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["confirmed"] is False and body["keep"]["id"] == keep.pk
    assert [(m["id"], m["messages_count"], m["notes_count"]) for m in body["merge"]] == [(other.pk, 1, 1)]
    assert body["fills"] == {"city": "Lyon"}
    assert body["not_kept"] == [{"customer_id": other.pk, "values": {"phone": "+33611111111"}}]
    assert body["conflicts"] == {"phone": ["+33698765432", "+33611111111"]}
    assert Customer.objects.filter(pk=other.pk).exists()


def test_merge_with_confirm_merges_and_answers_the_survivor(shop, owner, twins, api_client):
    keep, other = twins
    client = api_client(shop, "owner")
    client.key.created_by = owner
    client.key.save()
    body = {"merge": [other.pk], "confirm": True, "confirm_conflicts": True}  # two phones: see below
    response = client.post(url(keep, "merge/"), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == keep.pk and response.json()["city"] == "Lyon"
    assert not Customer.objects.filter(pk=other.pk).exists()
    assert keep.interactions.count() == 1
    entry = AuditEntry.objects.get(customer=keep, action="merge")
    assert entry.actor == owner and entry.details["not_kept"] == {"phone": "+33611111111"}


def test_records_with_different_phones_merge_only_with_a_second_explicit_yes(shop, twins, api_client):
    """As on the admin's merge page: two phones or two e-mails may be two people."""
    keep, other = twins
    client = api_client(shop, "owner")
    response = client.post(url(keep, "merge/"), {"merge": [other.pk], "confirm": True}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and "confirm_conflicts" in response.json()["fields"]
    assert Customer.objects.filter(pk=other.pk).exists() and keep.interactions.count() == 0


def test_records_without_conflicts_merge_with_confirm_alone(shop, julie, make_customer, api_client):
    guest = make_customer(shop, first_name="Julie", last_name="Martin", city="Lyon", phone=None)
    response = api_client(shop, "owner").post(
        url(julie, "merge/"), {"merge": [guest.pk], "confirm": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["city"] == "Lyon"
    assert not Customer.objects.filter(pk=guest.pk).exists()


def test_merge_refuses_bad_bodies_and_lower_scopes(shop, twins, api_client):
    keep, other = twins
    owner_client = api_client(shop, "owner")
    assert owner_client.post(url(keep, "merge/"), {"merge": [keep.pk]}, format="json").status_code == 400
    assert owner_client.post(url(keep, "merge/"), {"merge": []}, format="json").status_code == 400
    assert owner_client.post(url(keep, "merge/"), {"merge": [999999]}, format="json").status_code == 404
    body = {"merge": [other.pk], "confirm": True}
    assert api_client(shop, "write").post(url(keep, "merge/"), body, format="json").status_code == 403
    assert Customer.objects.filter(pk=other.pk).exists()


# --- notes --------------------------------------------------------------------------------------


def test_notes_list_in_cursor_pages_and_add_with_the_actor_as_author(shop, owner, julie, api_client):
    for n in range(3):
        Note.objects.create(customer=julie, body=f"n{n}")
    client = api_client(shop, "write")
    client.key.created_by = owner
    client.key.save()
    page = client.get(url(julie, "notes/"), {"page_size": 2}).json()
    assert [n["body"] for n in page["results"]] == ["n2", "n1"] and page["next"]
    assert [n["body"] for n in client.get(page["next"]).json()["results"]] == ["n0"]
    response = client.post(url(julie, "notes/"), {"body": "  Call after 18h. "}, format="json")
    assert response.status_code == 201
    assert response.json()["body"] == "Call after 18h." and response.json()["author"] == "owner"
    assert julie.notes.get(body="Call after 18h.").author == owner
    assert client.post(url(julie, "notes/"), {"body": "   "}, format="json").status_code == 400
    assert client.post(url(julie, "notes/"), {"body": "x" * 5001}, format="json").status_code == 400
    assert (
        api_client(shop, "read").post(url(julie, "notes/"), {"body": "x"}, format="json").status_code == 403
    )


# --- tags ---------------------------------------------------------------------------------------


def test_tags_list_with_counts_create_409_and_delete(shop, julie, api_client):
    (tag,) = tags_get_or_create(shop=shop, names=["mariage"])
    julie.tags.add(tag)
    client = api_client(shop, "write")
    assert client.get("/api/v1/tags/").json()["results"] == [
        {
            "id": tag.pk,
            "url": f"http://testserver/api/v1/tags/{tag.pk}/",
            "name": "mariage",
            "customers_count": 1,
        }
    ]
    created = client.post("/api/v1/tags/", {"name": " soldes "}, format="json")
    assert created.status_code == 201 and created.json()["name"] == "soldes"
    assert type(created.headers["Location"]) is str
    again = client.post("/api/v1/tags/", {"name": "mariage"}, format="json")
    assert again.status_code == 409 and again.json()["existing"].endswith(f"/api/v1/tags/{tag.pk}/")
    assert api_client(shop, "read").post("/api/v1/tags/", {"name": "x"}, format="json").status_code == 403
    assert api_client(shop, "read").delete(f"/api/v1/tags/{tag.pk}/").status_code == 403
    assert client.delete(f"/api/v1/tags/{tag.pk}/").status_code == 204
    assert not julie.tags.exists() and Customer.objects.filter(pk=julie.pk).exists()


# --- scopes and tenants -------------------------------------------------------------------------


def test_a_read_key_cannot_write_anything(shop, julie, api_client):
    client = api_client(shop, "read")
    assert client.post(API, {"first_name": "x"}, format="json").status_code == 403
    assert client.patch(url(julie), {"first_name": "x"}, format="json").status_code == 403
    assert client.delete(url(julie)).status_code == 403
    assert Customer.objects.filter(shop=shop).count() == 1
    assert Customer.objects.get(pk=julie.pk).first_name == "Julie"


def test_a_write_key_cannot_erase_export_or_merge(shop, twins, api_client):
    keep, other = twins
    client = api_client(shop, "write")
    assert client.delete(url(keep)).status_code == 403
    assert client.get(url(keep, "export/")).status_code == 403
    assert client.post(url(keep, "merge/"), {"merge": [other.pk]}, format="json").status_code == 403
    assert Customer.objects.filter(pk__in=[keep.pk, other.pk]).count() == 2


def test_shop_bs_key_gets_404_on_shop_as_objects_everywhere(shop, other_shop, julie, stranger, api_client):
    (tag,) = tags_get_or_create(shop=shop, names=["mariage"])
    b = api_client(other_shop, "owner")
    calls = [
        ("get", url(julie), None),
        ("patch", url(julie), {"first_name": "Hacked"}),
        ("delete", url(julie), None),
        ("get", url(julie, "export/"), None),
        ("post", url(julie, "merge/"), {"merge": [stranger.pk]}),
        ("get", url(julie, "notes/"), None),
        ("post", url(julie, "notes/"), {"body": "x"}),
        ("get", f"/api/v1/tags/{tag.pk}/", None),
        ("delete", f"/api/v1/tags/{tag.pk}/", None),
    ]
    for method, path, body in calls:
        response = getattr(b, method)(path, body, format="json")
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["error"] == "not_found"
    # Shop B's own customer merging shop A's: the id inside the body is a 404 too.
    response = b.post(url(stranger, "merge/"), {"merge": [julie.pk], "confirm": True}, format="json")
    assert response.status_code == 404
    assert Customer.objects.get(pk=julie.pk).first_name == "Julie"
    assert Tag.objects.filter(pk=tag.pk).exists() and not julie.notes.exists()
    assert ids(b.get(API, {"search": "Julie"})) == []


def test_a_revoked_key_is_refused(shop, julie, api_client):
    from customers.api_keys import api_key_revoke

    client = api_client(shop, "owner")
    assert client.get(url(julie)).status_code == 200
    api_key_revoke(key=client.key)
    assert client.get(url(julie)).status_code == 401
    assert client.delete(url(julie)).status_code == 401
    assert Customer.objects.filter(pk=julie.pk).exists()


def test_a_session_needs_the_csrf_token_to_write(shop, owner, julie):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get(url(julie)).status_code == 200
    assert client.patch(url(julie), {"city": "Nice"}, format="json").status_code == 403
    page = client.get("/dashboard/shop/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.patch(url(julie), {"city": "Nice"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json()["city"] == "Nice"


def test_a_signed_in_staff_member_writes_but_cannot_erase(shop, staff, julie):
    client = APIClient()
    client.force_login(staff)
    assert client.post(url(julie, "notes/"), {"body": "seen"}, format="json").json()["author"] == "staff"
    assert client.delete(url(julie)).status_code == 403
